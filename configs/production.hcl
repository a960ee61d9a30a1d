# callgate production example: every block and key, with what it does.
# Check a file with `callgate config check FILE`; reload a running gateway
# with `kill -HUP <pid>` (a file with problems is refused, the old config stays).
#
# env("NAME") reads an environment variable and is an error when it is not
# set; env("NAME", "default") falls back to the default. Keep secrets in the
# environment (or a systemd EnvironmentFile), never in this file.
#
# Durations are Go durations: "90s", "30m", "2h", "1h30m". Blocks with more
# than one key are written over several lines (HCL allows one key per
# single-line block).

server {
  # Address to listen on. Put a TLS-terminating proxy in front of it.
  listen = "127.0.0.1:8080"

  # The public base URL HubSpot posts to. Used to rebuild the exact URL
  # HubSpot signed (signature v2/v3); must match what the CRM is given.
  public_url = "https://calls.example.com"

  # Where the bbolt file (callgate.db) lives; created 0700. Relative paths
  # are relative to the working directory. One gateway per data_dir.
  data_dir = "/var/lib/callgate"

  # Timezone of call windows for agents that name none (IANA name).
  default_timezone = "Asia/Kolkata"

  # Country for phone numbers written without +country (ISO 3166 code).
  default_region = "IN"

  # Largest request body accepted, in bytes (413 above it).
  max_body_bytes = 1048576

  # sha256 hex of the bearer tokens accepted by /api/v1 and the CLI.
  # Make one: token=$(openssl rand -hex 32); printf %s "$token" | sha256sum
  admin_token_sha256 = [
    "91c16f0d6cc1bec3c3603972182a07c66ff4fa71618a975e963d6dbe42b6dd37",
  ]

  # Log lines as "text" or "json"; level trace, debug, info, warn or error.
  log_format = "json"
  log_level  = "info"

  # Call lifecycle events are POSTed here, signed with notify_secret
  # (header X-Callgate-Signature: sha256=<hex HMAC-SHA256>).
  notify        = ["https://crm-sync.example.com/callgate"]
  notify_secret = env("NOTIFY_SECRET", "")

  # How long inbox dedupe keys are kept (CRM redeliveries inside it are
  # recognised as duplicates).
  dedupe_ttl = "72h"

  # Pending inbox events past which webhooks get 503 + Retry-After.
  inbox_high_water = 100000

  # Limits on what a client can hold or try without a credential
  # (docs/operations.md, "Limits"). Reading one request (headers and body)
  # is cut off after read_timeout; idle keep-alives close after idle_timeout.
  read_timeout = "30s"
  idle_timeout = "60s"
  # Open connections in total (past it new ones wait) and from one address
  # (past it new ones are closed; trusted_proxies are exempt).
  max_connections        = 1024
  max_connections_per_ip = 64
  # Wrong admin tokens / API keys one address may send before it gets 429,
  # and how fast that budget refills.
  auth_fail_burst = 10
  auth_fail_rate  = "10/m"
  # Reverse proxies whose X-Forwarded-For names the client (empty: the TCP
  # peer is the client and X-Forwarded-For is ignored).
  trusted_proxies = ["127.0.0.1"]
}

# Where the data lives. Without this block (or with backend = "bolt") it is
# one bbolt file in server.data_dir: one process. With PostgreSQL, several
# replicas share one database and one queue (docs/scaling.md); run
# `callgate migrate up --config FILE` first. The URL is libpq's; keep the
# password in the environment.
# store {
#   backend = "postgres"
#   url     = env("DATABASE_URL")
# }

# An API key callers put in ?x_api_key= (or the X-API-KEY header). Only its
# sha256 is stored; `callgate keys new --name hubspot-prod` makes one.
api_key "hubspot-prod" {
  sha256 = "ca6f2e39b2ff141859b18bb5283aadd5093c8ede2869f3656231a054e54bfc22"
  # Optional: the only agents this key may trigger (default: any).
  agents = ["sales-intro"]
}

# One CRM account. The label is its name; type (the plugin) defaults to it.
# Every other key is a credential handed to the plugin with each call.
integration "hubspot" {
  type          = "hubspot"
  access_token  = env("HUBSPOT_ACCESS_TOKEN", "")
  # When set, webhook signatures are required and checked.
  client_secret = env("HUBSPOT_CLIENT_SECRET", "")
  base_url      = "https://api.hubapi.com"
}

# A dialer places calls. type: http (your voice platform), callkaro (the
# hosted service) or log (writes the call to the log; for trials).
dialer "voice" {
  type = "http"
  # POSTed with Idempotency-Key: <call id>-<attempt>.
  url = "https://voice.example.com/calls"
  headers = {
    Authorization = env("VOICE_AUTHORIZATION", "")
  }
  # HMAC key the platform signs /call/status/voice callbacks with.
  secret = env("DIALER_SECRET", "")
  # Per-request timeout; a timeout is a transport failure, retried without
  # spending one of the contact's attempts.
  timeout = "10s"
  # No outcome callback by then: the attempt is failed ("no outcome").
  outcome_timeout = "30m"
  # Calls in flight at once, and the dial rate ceiling ("5/s", "300/m", "1000/h").
  concurrency = 20
  rate        = "5/s"
  # Dials allowed in one burst above the rate (default: the rate per second).
  rate_burst = 5
}

dialer "callkaro" {
  type    = "callkaro"
  url     = "https://api.callkaro.ai"
  api_key = env("CALLKARO_API_KEY", "")
  # Token expected in /call/status/callkaro?token=… from the call_ended webhook.
  secret = env("CALLKARO_CALLBACK_TOKEN", "")
}

# An agent: which calls to place for which CRM events, and when.
agent "sales-intro" {
  # Which dialer places its calls (may be omitted when there is one dialer).
  dialer = "voice"
  # Which integrations serve it (default: the integration whose type is the
  # webhook's ?type=).
  integrations = ["hubspot"]
  # IANA timezone of the window, or "callee" (from the number called).
  timezone = "Asia/Kolkata"
  # Country for numbers without +country (default: server.default_region).
  region = "IN"
  # Record fields holding the number; the first valid one wins.
  phone_fields = ["mobilephone", "phone"]

  # expr rule deciding whether an event leads to a call; must be bool.
  when = "event.kind == 'created'"

  # Variables handed to the voice agent; each an expr expression yielding a
  # string (numbers are formatted plainly; nil leaves the variable out).
  variables = {
    firstname = "contact.firstname ?? 'there'"
    company   = "contact.company ?? ''"
  }
  # A call is skipped (with a reason) when one of these is missing or empty.
  required_variables = ["firstname"]

  # Calls are placed only inside the window, in the agent's timezone.
  # start > end crosses midnight. carry_over: outside the window, wait for
  # the next opening (true) or drop the call (false).
  window {
    start      = "09:00"
    end        = "18:00"
    carry_over = true
    days       = ["mon", "tue", "wed", "thu", "fri", "sat"]
  }

  # max: retries after the first attempt (0-10). gaps: wait before each
  # retry; fewer gaps than retries repeats the last. on: outcomes retried.
  retry {
    max  = 3
    gaps = ["2h", "4h", "6h"]
    on   = ["no_answer", "busy", "failed", "voicemail"]
  }

  # One call per (agent, contact) in this period.
  dedupe_window = "24h"
  # Log every ended attempt as a Call on the contact's timeline (HubSpot),
  # an activity on the lead (LeadSquared), with its transcript and
  # recording, and set the callgate_last_call_* properties. The block
  # refines it; `writeback = true` alone takes the defaults.
  writeback {
    attempts = "every" # or "final"
    title    = "'AI call with ' + (variables.firstname ?? 'a lead') + ': ' + outcome.status"
    # A follow-up: when the platform's post-call data says the lead
    # qualified, move it on and give a person a task.
    follow_up "qualified" {
      when = "outcome.status == 'completed' && outcome.data.qualified == true"
      set  = { lifecyclestage = "'salesqualifiedlead'" }
      task {
        title = "'Book the demo for ' + (variables.firstname ?? 'the lead')"
        body  = "outcome.summary"
        due   = "24h"
      }
    }
  }
  # Agent-level lifecycle webhooks (in addition to server.notify).
  notify = []
}

# An external CRM plugin binary, built with callgate's sdk. callgate refuses
# to start it when its sha256 differs.
plugin "pipedrive" {
  path   = "/usr/local/lib/callgate/callgate-pipedrive"
  sha256 = "0f343b0931126a20f133d67c2b018a3b5a0a0fbf1a6bfa9b7a0e1e3f0c9b2e11"
}

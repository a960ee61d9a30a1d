# callgate quick start: what `make run` serves. Needs no environment
# variables; every secret below is a documented demo value (see README.md).
# Do not use these keys anywhere reachable from the internet.

server {
  listen           = "127.0.0.1:8080"
  data_dir         = "./data"
  default_timezone = "Asia/Kolkata"
  default_region   = "IN"
  log_format       = "text"

  # sha256 of the demo admin token "demo-admin-token":
  #   curl -H 'Authorization: Bearer demo-admin-token' http://127.0.0.1:8080/api/v1/calls
  admin_token_sha256 = ["91c16f0d6cc1bec3c3603972182a07c66ff4fa71618a975e963d6dbe42b6dd37"]
}

# sha256 of the demo API key "demo-api-key", passed as ?x_api_key=demo-api-key.
api_key "demo" {
  sha256 = "ca6f2e39b2ff141859b18bb5283aadd5093c8ede2869f3656231a054e54bfc22"
  agents = ["sales-intro"]
}

# A HubSpot account. By default the fake HubSpot that `make run` starts
# beside the gateway (`callgate fake hubspot`, on 127.0.0.1:8090), so a
# first call needs no account. For your real account:
#   HUBSPOT_BASE_URL=https://api.hubapi.com HUBSPOT_ACCESS_TOKEN=pat-... make run
integration "hubspot" {
  access_token = env("HUBSPOT_ACCESS_TOKEN", "demo-access-token")
  base_url     = env("HUBSPOT_BASE_URL", "http://127.0.0.1:8090")
}

# The log dialer writes each call to the log and records it as completed.
dialer "log" {
  type = "log"
}

agent "sales-intro" {
  dialer       = "log"
  integrations = ["hubspot"]
  timezone     = "Asia/Kolkata"
  phone_fields = ["mobilephone", "phone"]
  when         = "event.kind == 'created'"

  variables = {
    firstname = "contact.firstname ?? 'there'"
    company   = "contact.company ?? ''"
  }
  required_variables = ["firstname"]

  retry {
    max  = 2
    gaps = ["1h", "2h"]
  }
  dedupe_window = "24h"
}

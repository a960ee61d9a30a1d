// Package callee is what callgate knows about the person called: the
// number in E.164 and the timezone to call them in.
//
// It holds the only implementations of both rules, so the webhook, the
// hosted scheduling API, the pipeline, the scheduler, the rules dry run,
// the admin API and the dashboard cannot disagree about a number or a
// zone. It imports only nyaruka/phonenumbers and the standard library, so
// every package may use it, the ground-floor rules package included.
//
// Timezone names it returns are current IANA names: old ones that
// phonenumbers or a CRM may give (Asia/Calcutta, Europe/Kiev, US/Eastern)
// come back as their current name (Asia/Kolkata, Europe/Kyiv,
// America/New_York).
package callee

// The timezone database is built in, so zones resolve the same on machines
// without one (containers, Windows).
import _ "time/tzdata"

package ingest

import (
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Limits of /call/outbound's batch and priority fields, as the hosted
// API documents them.
const (
	MinPriority = -100
	MaxPriority = 100
	MaxBatchID  = 100
)

// outboundExtras are the body's fields that callgate keeps on the call
// and passes to dialers that take them: batch_id, priority, language.
type outboundExtras struct {
	BatchID  string
	Priority int
	Language string
}

// parseOutboundExtras validates batch_id, priority (a whole number from
// −100 to 100, also as a string) and language (an ISO 639-1 code, any
// case). Absent or null fields are zero.
func parseOutboundExtras(req OutboundRequest) (outboundExtras, error) {
	var x outboundExtras
	x.BatchID = strings.TrimSpace(req.BatchID)
	if len(x.BatchID) > MaxBatchID || strings.IndexFunc(x.BatchID, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return x, paramErr("batch_id", "invalid batch_id: use up to %d printable characters (the campaign's batch_id)", MaxBatchID)
	}
	s, ok := scalar(req.Priority)
	if !ok {
		return x, paramErr("priority", "invalid priority: use a whole number from %d to %d", MinPriority, MaxPriority)
	}
	if s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != math.Trunc(f) || f < MinPriority || f > MaxPriority {
			return x, paramErr("priority", "invalid priority %s: use a whole number from %d to %d", strconv.Quote(clipText(s, 20)), MinPriority, MaxPriority)
		}
		x.Priority = int(f)
	}
	if l := strings.ToLower(strings.TrimSpace(req.Language)); l != "" {
		if !iso6391[l] {
			return x, paramErr("language", "invalid language %s: use an ISO 639-1 code such as en, hi, ta", strconv.Quote(clipText(req.Language, 20)))
		}
		x.Language = l
	}
	return x, nil
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// iso6391 is the set of ISO 639-1 two-letter language codes.
var iso6391 = func() map[string]bool {
	const codes = "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy " +
		"da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz " +
		"ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo " +
		"lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps " +
		"pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn " +
		"to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
	m := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		m[c] = true
	}
	return m
}()

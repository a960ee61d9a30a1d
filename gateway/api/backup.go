package api

import (
	"net/http"
	"strconv"

	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store"
)

// Backuper writes a hot copy of the data file (the bolt store implements it).
type Backuper = store.Backuper

// backup streams a consistent copy of the bbolt file: GET /api/v1/backup.
// Requests keep being served meanwhile; the copy is one read transaction.
// A store with no file to copy (PostgreSQL) answers 501: the database is
// backed up with its own tools.
func (a *API) backup(w http.ResponseWriter, r *http.Request) {
	if a.opts.Backup == nil {
		reply.Error(w, http.StatusNotImplemented, "The store is PostgreSQL: back it up with pg_dump or your provider's snapshots (docs/scaling.md)")
		return
	}
	name := "callgate-" + a.opts.Now().UTC().Format("20060102T150405Z") + ".db"
	n, err := a.opts.Backup.WriteBackup(r.Context(), w, func(size int64) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	})
	if err != nil {
		// Headers (and part of the body) may be out: the short body and
		// the broken connection tell the client; the log tells the operator.
		a.opts.Logger.Error("backup failed", "bytes_written", n, "error", err)
		return
	}
	a.opts.Logger.Info("backup written", "bytes", n, "remote", r.RemoteAddr)
}

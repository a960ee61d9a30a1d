package bolt

import (
	"fmt"
	"runtime/debug"

	bbolt "go.etcd.io/bbolt"
)

// writeBatch stores every request of batch in one transaction and
// returns how many events became pending. A panic while storing (a record
// the code cannot handle) is the transaction's error, logged with its
// stack, so the writer goroutine survives it.
func (db *Store) writeBatch(batch []*appendReq) (added int64, err error) {
	defer func() {
		if v := recover(); v != nil {
			db.log.Error("storing events panicked; the request fails, the inbox goes on",
				"requests", len(batch), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			added, err = 0, fmt.Errorf("internal error storing the events (%v); see the server log", v)
		}
	}()
	err = db.bolt.Update(func(tx *bbolt.Tx) error {
		added = 0
		for _, r := range batch {
			n, err := db.appendTx(tx, r)
			if err != nil {
				return err
			}
			added += n
		}
		return nil
	})
	return added, err
}

package postgres

// WakeChannel is the LISTEN channel of the wake-ups, for tests that listen
// on it themselves to see every notification in order.
const WakeChannel = wakeChannel

package loadgen

import (
	"io"
	"net/http"
)

var bareAnswer = []byte(`{"ok":true}` + "\n")

// BareHandler is the baseline: a plain net/http handler that reads the
// request body and answers a constant. Serve it in a process of its own
// (`healthcode loadgen bare`) so that it and the server are measured alike.
func BareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Write(bareAnswer)
	})
}

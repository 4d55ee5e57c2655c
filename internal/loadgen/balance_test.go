package loadgen

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Requests addressed to the first node go to each node in turn; the bare
// handler's are left alone.
func TestBalancerSpreadsRequestsRoundRobin(t *testing.T) {
	hits := make([]int, 3)
	var urls []string
	for i := range hits {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits[i]++ }))
		defer s.Close()
		urls = append(urls, s.URL)
	}
	bare := 0
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { bare++ }))
	defer b.Close()
	c := &http.Client{Transport: balance(newTransport(1), urls[0], urls[1:])}
	for range 30 {
		for _, u := range []string{urls[0] + "/api/v1/verify", b.URL + "/"} {
			res, err := c.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	if hits[0] != 10 || hits[1] != 10 || hits[2] != 10 || bare != 30 {
		t.Fatalf("nodes got %v, the bare handler %d; want 10 each and 30", hits, bare)
	}
}

package server_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/server/servertest"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/sms/kanneltest"
)

// newKannelEnv is a running server whose texts go through gw, with its
// workers running; Kannel reports delivery to the server's own URL.
func newKannelEnv(t *testing.T, engine db.Engine, gw *kanneltest.Gateway) *env {
	t.Helper()
	return &env{t: t, Server: servertest.Start(t, engine, servertest.WithWorkers(), servertest.WithConfig(func(c *server.Config) {
		c.SMSProvider = "kannel"
		c.Kannel = sms.KannelConfig{URL: gw.SendURL, User: gw.User, Password: gw.Password}
		c.SMS = sms.Config{RetryMin: 200 * time.Millisecond, RetryMax: time.Second}
	}))}
}

// message waits until the one message to phone is in state. Operators do
// not read the outbox while Kannel carries the messages, so the test reads
// the product's table (sms.Outbox.List), as the outbox page once did.
func (e *env) message(admin, phone, state string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs := e.stored(sms.Filter{To: phone})
		if len(msgs) != 1 {
			e.t.Fatalf("%d messages to %s", len(msgs), phone)
		}
		m := msgs[0]
		if m["state"] == state {
			return m
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the message to %s is %v (%v), want %s", phone, m["state"], m["last_error"], state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stored are the stored messages f selects, in the outbox answer's shape.
func (e *env) stored(f sms.Filter) []map[string]any {
	e.t.Helper()
	items, err := e.App.Outbox.List(context.Background(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		var report any
		if it.Report != 0 {
			report = float64(it.Report)
		}
		out[i] = map[string]any{"state": it.State, "last_error": it.LastError, "report": report,
			"attempts": float64(it.Attempts), "provider": it.Provider, "body": it.Body}
	}
	return out
}

var zhCode = regexp.MustCompile(`^【健康码】您的验证码是(\d{6})，5分钟内有效，请勿告诉他人。$`)

// TestLoginCodesThroughKannel sends login codes through a real Kannel to
// a carrier in the test, and takes the carrier's delivery reports back
// through Kannel; the carrier and then Kannel go away for a while, and
// nothing is lost.
func TestLoginCodesThroughKannel(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			gw := kanneltest.Start(t)
			e := newKannelEnv(t, engine, gw)
			admin := e.Admin()
			sendCode := func(phone, lang string) resp {
				t.Helper()
				return e.Want(e.Do("POST", "/api/v1/auth/otp", "", map[string]any{"phone": phone, "lang": lang}), 202, "")
			}

			// A login code arrives in Chinese, as UCS-2, and logs the resident in.
			if r := sendCode("13900000401", ""); r.Body["delayed"] != false {
				t.Fatalf("delayed with the gateway up: %s", r.Raw)
			}
			got, ok := gw.Carrier.Wait("13900000401", 20*time.Second)
			m := zhCode.FindStringSubmatch(got.Text)
			if !ok || m == nil || got.Coding != 2 {
				t.Fatalf("the carrier got %+v", got)
			}
			e.Want(e.Do("POST", "/api/v1/auth/login", "", map[string]any{"phone": "13900000401", "otp": m[1]}), 200, "")
			// The codes are the residents' now: the outbox is off.
			e.Want(e.Do("GET", "/api/v1/admin/outbox?to=13900000401", admin, nil), 404, "outbox_off")
			// Its delivery report came back: carrier -> Kannel -> product.
			msg := e.message(admin, "13900000401", "delivered")
			if msg["report"] != float64(1) || msg["attempts"] != float64(1) || msg["provider"] != "kannel" {
				t.Fatalf("delivered: %v", msg)
			}
			// In English when the resident asks in English (GSM 7-bit).
			sendCode("13900000402", "en")
			got, _ = gw.Carrier.Wait("13900000402", 20*time.Second)
			if !regexp.MustCompile(`^\[Health Code\] Your login code is \d{6}, valid for 5 minutes\. Do not share it\.$`).MatchString(got.Text) || got.Coding == 2 {
				t.Fatalf("in English: %+v", got)
			}
			e.message(admin, "13900000402", "delivered")

			// The carrier is away: Kannel holds the message and delivers it
			// when the carrier is back.
			gw.Carrier.Down()
			sendCode("13900000403", "")
			e.message(admin, "13900000403", "sent")
			if _, ok := gw.Carrier.Wait("13900000403", 0); ok {
				t.Fatal("a carrier that is down received a message")
			}
			gw.Carrier.Up()
			if _, ok := gw.Carrier.Wait("13900000403", 20*time.Second); !ok {
				t.Fatal("the carrier did not get the message once back")
			}
			e.message(admin, "13900000403", "delivered")

			// Kannel is down: the product queues, retries and says codes
			// are delayed; once Kannel is back they go out.
			gw.Stop()
			sendCode("13900000404", "")
			deadline := time.Now().Add(20 * time.Second)
			for {
				msgs := e.stored(sms.Filter{State: sms.StateQueued, To: "13900000404"})
				if len(msgs) == 1 && msgs[0]["attempts"].(float64) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no failed attempt with Kannel down: %v", msgs)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if r := sendCode("13900000405", ""); r.Body["delayed"] != true {
				t.Fatalf("not delayed with Kannel down: %s", r.Raw)
			}
			gw.Restart()
			for _, phone := range []string{"13900000404", "13900000405"} {
				if _, ok := gw.Carrier.Wait(phone, 30*time.Second); !ok {
					t.Fatalf("%s: nothing at the carrier after Kannel came back", phone)
				}
				e.message(admin, phone, "delivered")
			}
			if r := sendCode("13900000406", ""); r.Body["delayed"] != false {
				t.Fatalf("still delayed once all went out: %s", r.Raw)
			}
			e.message(admin, "13900000406", "delivered")

			// Nothing lost, nothing twice.
			count := map[string]int{}
			for _, m := range gw.Carrier.Messages() {
				count[m.To]++
			}
			for _, phone := range []string{"13900000401", "13900000402", "13900000403", "13900000404", "13900000405", "13900000406"} {
				if count[phone] != 1 {
					t.Errorf("%s: %d messages at the carrier, want 1", phone, count[phone])
				}
			}
		})
	}
}

// A delivery report needs the token of its message: forged or malformed
// reports are refused and change nothing.
func TestForgedDeliveryReportsAreRefused(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		e.Want(e.Do("POST", "/api/v1/auth/otp", "", map[string]any{"phone": "13900000451"}), 202, "")
		msg := e.Want(e.Do("GET", "/api/v1/admin/outbox?to=13900000451", admin, nil), 200, "").Body["messages"].([]any)[0].(map[string]any)
		id := strconv.FormatFloat(msg["id"].(float64), 'f', 0, 64)
		for _, c := range []struct {
			query  string
			status int
			code   string
		}{
			{"", 400, "report_invalid"},
			{"?id=" + id + "&type=1", 400, "report_invalid"},
			{"?id=x&t=00&type=1", 400, "report_invalid"},
			{"?id=" + id + "&t=" + strings.Repeat("0", 32) + "&type=1", 403, "report_token_invalid"},
			{"?id=99999&t=" + strings.Repeat("a", 32) + "&type=2", 403, "report_token_invalid"},
		} {
			e.Want(e.Do("GET", "/api/v1/sms/dlr"+c.query, "", nil), c.status, c.code)
		}
		after := e.Want(e.Do("GET", "/api/v1/admin/outbox?to=13900000451", admin, nil), 200, "").Body["messages"].([]any)[0].(map[string]any)
		if after["state"] != msg["state"] || after["report"] != nil {
			t.Fatalf("a refused report changed the message: %v -> %v", msg, after)
		}
		// ?state= takes the four states only.
		e.Want(e.Do("GET", "/api/v1/admin/outbox?state=lost", admin, nil), 400, "sms_state_unknown")
		e.Want(e.Do("POST", "/api/v1/auth/otp", "", map[string]any{"phone": "13900000452", "lang": "fr"}), 400, "lang_unknown")
		if n := len(e.Want(e.Do("GET", "/api/v1/admin/outbox?to=13900000452", admin, nil), 200, "").Body["messages"].([]any)); n != 0 {
			t.Fatal("a code was sent in an unknown language")
		}
	})
}

package sms_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/sms/kanneltest"
)

const kannelPassword = "s3cret-kannel-password"

func TestKannelSendsmsRequests(t *testing.T) {
	var got url.Values
	answer, status := "0: Accepted for delivery", http.StatusAccepted
	smsbox := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cgi-bin/sendsms" {
			http.NotFound(w, r)
			return
		}
		got = r.URL.Query()
		w.WriteHeader(status)
		w.Write([]byte(answer))
	}))
	defer smsbox.Close()
	k, err := sms.NewKannel(sms.KannelConfig{URL: smsbox.URL, User: "hc", Password: kannelPassword, From: "10690001"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	report := "https://hc.example/api/v1/sms/dlr?id=7&t=abc"
	if _, err := k.Submit(ctx, sms.Outgoing{ID: 7, To: "13800000001", Body: "【健康码】您的验证码是123456", ReportURL: report}); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"username": "hc", "password": kannelPassword, "to": "13800000001", "from": "10690001",
		"text": "【健康码】您的验证码是123456", "charset": "UTF-8", "coding": "2",
		"dlr-mask": "27", "dlr-url": report + "&type=%d&answer=%A",
	} {
		if got.Get(key) != want {
			t.Errorf("%s = %q, want %q", key, got.Get(key), want)
		}
	}
	// Plain ASCII goes in GSM's 7 bits (160 characters a message).
	if _, err := k.Submit(ctx, sms.Outgoing{To: "13800000001", Body: "[Health Code] code 123456"}); err != nil {
		t.Fatal(err)
	}
	if got.Has("coding") || got.Has("dlr-url") || got.Has("dlr-mask") {
		t.Errorf("ASCII without reports: %v", got)
	}

	// smsbox's refusal is an error with its answer; no error ever holds the password.
	answer, status = "Authorization failed for sendsms", http.StatusForbidden
	_, err = k.Submit(ctx, sms.Outgoing{To: "13800000001", Body: "x"})
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "Authorization failed") {
		t.Fatalf("refused: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close()
	down, _ := sms.NewKannel(sms.KannelConfig{URL: closed, User: "hc", Password: kannelPassword})
	_, err = down.Submit(ctx, sms.Outgoing{To: "13800000001", Body: "x"})
	if err == nil || strings.Contains(err.Error(), kannelPassword) || strings.Contains(err.Error(), "password") {
		t.Fatalf("smsbox down: %v", err)
	}
	slow, _ := sms.NewKannel(sms.KannelConfig{URL: smsbox.URL, User: "hc", Password: kannelPassword})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err = slow.Submit(cctx, sms.Outgoing{To: "13800000001", Body: "x"}); err == nil || strings.Contains(err.Error(), kannelPassword) {
		t.Fatalf("cancelled: %v", err)
	}

	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("sms", "provider", k, "config", sms.KannelConfig{URL: smsbox.URL, User: "hc", Password: kannelPassword})
	if strings.Contains(logged.String(), kannelPassword) || !strings.Contains(logged.String(), "kannel at") {
		t.Errorf("logged %q", logged.String())
	}

	for _, c := range []sms.KannelConfig{
		{URL: "", User: "hc", Password: "pw"},
		{URL: "ftp://127.0.0.1:13013/", User: "hc", Password: "pw"},
		{URL: "http://hc:pw@127.0.0.1:13013/", User: "hc", Password: "pw"},
		{URL: "http://127.0.0.1:13013/", User: "hc"},
		{URL: "http://127.0.0.1:13013/"},
	} {
		if _, err := sms.NewKannel(c); err == nil || strings.Contains(err.Error(), ":pw@") {
			t.Errorf("NewKannel(%q, %q) = %v", c.URL, c.User, err)
		}
	}
}

// TestKannelRoundTrip sends through a real Kannel: the message reaches the
// carrier in UCS-2, and the carrier's delivery report comes back through
// Kannel to the message.
func TestKannelRoundTrip(t *testing.T) {
	gw := kanneltest.Start(t)
	d := dbtest.NewSQLite(t)
	var box *sms.Outbox
	reports := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if _, err := box.Record(r.Context(), sms.Report{ID: q.Get("id"), Token: q.Get("t"), Type: q.Get("type"), Answer: q.Get("answer")}); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	}))
	defer reports.Close()
	k, err := sms.NewKannel(sms.KannelConfig{URL: gw.SendURL, User: gw.User, Password: gw.Password})
	if err != nil {
		t.Fatal(err)
	}
	box = sms.New(d, keyring(t), sms.Config{Provider: k, ReportURL: reports.URL + "/dlr", ReportSecret: []byte("secret")})
	ctx := context.Background()
	send := func(phone string) {
		t.Helper()
		if err := box.Send(ctx, sms.Message{To: phone, Purpose: sms.KindLoginCode, Vars: map[string]string{"code": "517209", "minutes": "5"}}); err != nil {
			t.Fatal(err)
		}
		if err := box.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitState := func(phone, state string) sms.Item {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			items, err := box.List(ctx, sms.Filter{To: phone})
			if err != nil || len(items) != 1 {
				t.Fatalf("%v %+v", err, items)
			}
			if items[0].State == state {
				return items[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("message to %s is %s (%s), want %s", phone, items[0].State, items[0].LastError, state)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	send("13800000071")
	m, ok := gw.Carrier.Wait("13800000071", 20*time.Second)
	if !ok || m.Text != "【健康码】您的验证码是517209，5分钟内有效，请勿告诉他人。" || m.Coding != 2 {
		t.Fatalf("the carrier got %+v", m)
	}
	if it := waitState("13800000071", sms.StateDelivered); it.Report != 1 || it.Attempts != 1 {
		t.Fatalf("delivered: %+v", it)
	}

	gw.Carrier.SetReport(2)
	send("13800000072")
	if it := waitState("13800000072", sms.StateFailed); !strings.Contains(it.LastError, "did not reach the phone") {
		t.Fatalf("undelivered: %+v", it)
	}
}

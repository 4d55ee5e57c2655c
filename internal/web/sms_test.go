package web_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/sms"
)

// askCode asks for a login code on the login page and returns the page
// that follows.
func (e *env) askCode(c *http.Client, phone string) string {
	e.t.Helper()
	_, body := e.get(c, "/login")
	res, body := e.post(c, "/login/otp", url.Values{"phone": {phone}, "csrf": {csrfOf(body)}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `name="otp"`) {
		e.t.Fatalf("asking for a code: %d\n%s", res.StatusCode, body)
	}
	return body
}

// With the SMS gateway down, the login page says the code may come late,
// and the code waits in the queue.
func TestTheLoginPageSaysWhenCodesAreDelayed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	e := newEnv(t, false, func(c *server.Config) {
		c.SMSProvider = "kannel"
		c.Kannel = sms.KannelConfig{URL: down, User: "healthcode", Password: "a password"}
		c.SMS.RetryMin = time.Minute
	})
	c := e.client()
	e.askCode(c, "13900000301")
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		items, err := e.App.Outbox.List(ctx, sms.Filter{To: "13900000301"})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 1 && items[0].Attempts > 0 {
			if items[0].State != sms.StateQueued || !strings.Contains(items[0].LastError, "kannel") {
				t.Fatalf("after a failed attempt: %+v", items[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not try the gateway: %+v", items)
		}
		time.Sleep(20 * time.Millisecond)
	}
	body := e.askCode(c, "13900000302")
	if !strings.Contains(body, `id="sms-delayed"`) || !strings.Contains(body, "验证码可能延迟") {
		t.Fatalf("no word of the delay:\n%s", body)
	}
	body = e.askCode(e.client(), "13900000303")
	if !strings.Contains(body, "no need to ask again") && !strings.Contains(body, "无需重复获取") {
		t.Fatalf("no word of the delay for another visitor:\n%s", body)
	}

	// The outbox of a demo is never late.
	demo := newEnv(t, false)
	if body := demo.askCode(demo.client(), "13900000304"); strings.Contains(body, "sms-delayed") {
		t.Fatal("the outbox provider reports a delay")
	}
}

// The outbox page says that reading it is audited, and is off (404, with
// the reason) while a real gateway carries the messages.
func TestTheOutboxPageIsAuditedAndOffWithAGateway(t *testing.T) {
	t.Parallel()
	open := newEnv(t, false)
	c := consoleClient(t, open, "admin", adminPassword)
	for _, lang := range []struct{ q, want string }{{"", "每次查看都会记入审计日志"}, {"?lang=en", "every look at it is recorded in the audit log"}} {
		if st, body := open.get(c, "/console/outbox"+lang.q); st != 200 || !strings.Contains(body, lang.want) {
			t.Errorf("outbox%s: %d, want %q on the page", lang.q, st, lang.want)
		}
	}
	var n int
	if err := open.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'outbox.read'`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d outbox reads audited, want 2 (%v)", n, err)
	}

	gw := newEnv(t, false, func(c *server.Config) {
		c.SMSProvider = "kannel"
		c.Kannel = sms.KannelConfig{URL: "http://127.0.0.1:9/cgi-bin/sendsms", User: "healthcode", Password: "a password"}
	})
	c = consoleClient(t, gw, "admin", adminPassword)
	if st, body := gw.get(c, "/console/outbox"); st != 404 || !strings.Contains(body, "短信发件箱已关闭") || strings.Contains(body, `id="outbox"`) {
		t.Errorf("outbox with a gateway: %d\n%s", st, body)
	}
}

package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// KannelConfig is how to reach Kannel's smsbox (its HTTP sendsms
// interface, a sendsms-user group of kannel.conf).
type KannelConfig struct {
	// URL is smsbox's sendsms endpoint, e.g.
	// http://127.0.0.1:13013/cgi-bin/sendsms (a bare http://HOST:PORT gets
	// the standard path).
	URL      string
	User     string
	Password string // never logged nor put in an error
	// From is the sender (the service number); empty leaves it to
	// smsbox's global-sender or the user's faked-sender.
	From string
	// Timeout bounds one request (default 10 s).
	Timeout time.Duration
}

// dlrMask asks Kannel for the reports that change a message's state:
// delivered to the phone (1), not delivered (2), accepted by the carrier
// (8) and refused by it (16). "Buffered" (4) changes nothing.
const dlrMask = 1 | 2 | 8 | 16

// Kannel hands messages to Kannel's smsbox over HTTP (sendsms). Kannel
// then talks SMPP (or another carrier protocol) to the carrier, keeps the
// messages in its store while the carrier is away, and reports delivery to
// the message's dlr-url.
type Kannel struct {
	cfg    KannelConfig
	url    *url.URL
	client *http.Client
}

// NewKannel checks cfg and returns the provider.
func NewKannel(cfg KannelConfig) (*Kannel, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sms: --kannel-url %q is not an http(s) URL of smsbox's sendsms interface", redactURL(cfg.URL))
	}
	if u.User != nil {
		return nil, errors.New("sms: --kannel-url must not hold credentials; use --kannel-user and HEALTHCODE_KANNEL_PASSWORD")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/cgi-bin/sendsms"
	}
	if cfg.User == "" || cfg.Password == "" {
		return nil, errors.New("sms: the kannel provider needs --kannel-user and a password (HEALTHCODE_KANNEL_PASSWORD)")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &Kannel{cfg: cfg, url: u, client: &http.Client{Timeout: cfg.Timeout}}, nil
}

// Name implements Provider.
func (k *Kannel) Name() string { return "kannel" }

// String names the gateway without its credentials.
func (k *Kannel) String() string { return "kannel at " + k.url.Host }

// LogValue keeps the credentials out of logs that print the provider.
func (k *Kannel) LogValue() slog.Value { return slog.StringValue(k.String()) }

// LogValue keeps the password out of logs that print the configuration.
func (c KannelConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", redactURL(c.URL)), slog.String("user", c.User), slog.String("from", c.From))
}

// Submit implements Provider: a GET of sendsms. Text that is not plain
// ASCII (Chinese) goes as UCS-2 (coding=2), which Kannel converts from
// the UTF-8 it is given (charset=UTF-8).
func (k *Kannel) Submit(ctx context.Context, m Outgoing) (Receipt, error) {
	q := url.Values{}
	q.Set("username", k.cfg.User)
	q.Set("password", k.cfg.Password)
	q.Set("to", m.To)
	q.Set("text", m.Body)
	q.Set("charset", "UTF-8")
	if !isASCII(m.Body) {
		q.Set("coding", "2")
	}
	if k.cfg.From != "" {
		q.Set("from", k.cfg.From)
	}
	if m.ReportURL != "" {
		q.Set("dlr-mask", fmt.Sprint(dlrMask))
		// Kannel fills %d with the report's type and %A with the carrier's
		// answer when it calls the URL.
		q.Set("dlr-url", m.ReportURL+"&type=%d&answer=%A")
	}
	u := *k.url
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Receipt{}, fmt.Errorf("%s: %w", k, err)
	}
	res, err := k.client.Do(req)
	if err != nil {
		// The *url.Error would quote the URL, password and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Receipt{}, fmt.Errorf("%s: %w", k, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode/100 != 2 {
		return Receipt{}, fmt.Errorf("%s answered %d: %s", k, res.StatusCode, strings.TrimSpace(string(body)))
	}
	return Receipt{}, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	u.RawQuery = ""
	return u.String()
}

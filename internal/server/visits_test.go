package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
)

// A scenic spot opens a slot, residents book it through the API until it
// is full, one cancels and the place is free again; at the gate a green
// code with a booking for now enters once, and red, yellow, no booking,
// expired and forged codes are refused with their reasons; the spot's
// attendance counts them. Nothing refused is written.
func TestScenicSpotThroughTheGateway(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		spot := e.org(admin, "scenic_spot", "宁国恩龙世界木屋村", "MA2N9K4E", "341881100")
		_, gate := e.orgKey(admin, spot, map[string]any{"name": "闸机", "scopes": []string{"scan", "booking.entry", "booking.slots"}})
		_, scanOnly := e.orgKey(admin, spot, map[string]any{"name": "手持机", "scopes": []string{"scan"}})
		now := time.Now()
		sl := e.Want(e.Do("POST", "/gateway/v1/booking/slots", gate, map[string]any{"starts_at": now.Add(10 * time.Minute),
			"ends_at": now.Add(2 * time.Hour), "capacity": 2}), 201, "")
		slot := sl.Str("id")
		e.Want(e.Do("POST", "/gateway/v1/booking/slots", gate, map[string]any{"starts_at": now, "ends_at": now.Add(-time.Hour), "capacity": 2}),
			400, "booking_slot_invalid")
		e.Want(e.Do("POST", "/gateway/v1/booking/slots", scanOnly, map[string]any{"starts_at": now, "ends_at": now.Add(time.Hour), "capacity": 2}),
			403, "scope_missing")
		list := e.Want(e.Do("GET", "/api/v1/booking/places/"+spot+"/slots", "", nil), 200, "")
		if n := len(list.Body["slots"].([]any)); n != 1 {
			t.Fatalf("%d slots listed: %s", n, list.Raw)
		}

		green, _ := e.Resident("13900000511", "韩梅", rid("19900101", 511), "341881001")
		second, _ := e.Resident("13900000512", "李雷", rid("19900202", 512), "341881001")
		third, _ := e.Resident("13900000513", "林涛", rid("19900303", 513), "341881001")
		red, redID := e.Resident("13900000514", "钱红", rid("19800101", 514), "341881001")
		b := e.Want(e.Do("POST", "/api/v1/me/bookings", green, map[string]any{"slot_id": slot}), 201, "")
		if b.Str("state") != "booked" || b.Body["slot"].(map[string]any)["remaining"] != 1.0 {
			t.Fatalf("booking: %s", b.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/me/bookings", green, map[string]any{"slot_id": slot}), 409, "already_booked")
		second1 := e.Want(e.Do("POST", "/api/v1/me/bookings", second, map[string]any{"slot_id": slot}), 201, "").Str("id")
		e.Want(e.Do("POST", "/api/v1/me/bookings", third, map[string]any{"slot_id": slot}), 409, "slot_full")
		e.Want(e.Do("POST", "/api/v1/me/bookings", third, map[string]any{"slot_id": "nope"}), 404, "slot_not_found")
		e.Want(e.Do("DELETE", "/api/v1/me/bookings/"+second1, third, nil), 404, "booking_not_found")
		if n := e.Count("bk_bookings"); n != 2 {
			t.Fatalf("%d bookings stored, want 2", n)
		}
		e.Want(e.Do("DELETE", "/api/v1/me/bookings/"+second1, second, nil), 200, "")
		e.Want(e.Do("DELETE", "/api/v1/me/bookings/"+second1, second, nil), 409, "booking_closed")
		e.Want(e.Do("POST", "/api/v1/me/bookings", red, map[string]any{"slot_id": slot}), 201, "")

		// The gate.
		e.Want(e.fact(admin, redID, "case.confirmed", time.Now().Add(-time.Hour), nil), 201, "")
		e.Want(e.Do("POST", "/gateway/v1/booking/entry", gate, map[string]any{"code": e.myCode(red)}), 409, "entry_refused_red")
		e.Want(e.Do("POST", "/gateway/v1/booking/entry", gate, map[string]any{"code": e.myCode(third)}), 409, "entry_no_booking")
		e.Want(e.Do("POST", "/gateway/v1/booking/entry", gate, map[string]any{"code": "HELLO"}), 422, "code_unreadable")
		e.Want(e.Do("POST", "/gateway/v1/booking/entry", gate, map[string]any{"code": forgedCode(t)}), 422, "code_forged")
		code := e.myCode(green)
		e.App.Codes.SetClock(func() time.Time { return time.Now().Add(time.Hour) })
		e.Want(e.Do("POST", "/gateway/v1/booking/entry", gate, map[string]any{"code": code}), 422, "code_expired")
		e.App.Codes.SetClock(time.Now)
		e.Want(e.Do("POST", "/gateway/v1/booking/entry", scanOnly, map[string]any{"code": code}), 403, "scope_missing")
		if n := e.Count("bk_bookings WHERE state = 'entered'"); n != 0 {
			t.Fatal("a refused entry was stored")
		}
		in := e.Want(e.Do("POST", "/gateway/v1/booking/entry", gate, map[string]any{"code": code}), 200, "")
		if in.Str("masked_name") != "韩*" || in.Str("color") != "green" {
			t.Fatalf("entry: %s", in.Raw)
		}
		e.Want(e.Do("POST", "/gateway/v1/booking/entry", gate, map[string]any{"code": e.myCode(green)}), 409, "entry_used")

		a := e.Want(e.Do("GET", "/gateway/v1/booking/attendance", gate, nil), 200, "")
		if a.Body["capacity"] != 2.0 || a.Body["booked"] != 2.0 || a.Body["entered"] != 1.0 || a.Body["cancelled"] != 1.0 {
			t.Fatalf("attendance: %s", a.Raw)
		}
		if a := e.Want(e.Do("GET", "/api/v1/admin/orgs/"+spot+"/booking/attendance", admin, nil), 200, ""); a.Body["entered"] != 1.0 {
			t.Fatalf("the authority's attendance: %s", a.Raw)
		}
		mine := e.Want(e.Do("GET", "/api/v1/me/bookings", green, nil), 200, "")
		if bs := mine.Body["bookings"].([]any); len(bs) != 1 || bs[0].(map[string]any)["state"] != "entered" {
			t.Fatalf("my bookings: %s", mine.Raw)
		}
	})
}

// forgedCode is a well-formed health code signed by a key nobody trusts.
func forgedCode(t *testing.T) string {
	t.Helper()
	k, _ := codeformat.GenerateKey(codeformat.AlgEdDSA)
	sg, _ := codeformat.NewSigner(k)
	now := time.Now()
	c, err := codeformat.Encode(codeformat.Claims{Issuer: "341881", IssuedAt: now, Expires: now.Add(time.Minute), ID: codeformat.NewID(),
		Color: codeformat.ColorGreen, MaskedName: "张*丰", Kind: codeformat.KindDynamic}, sg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A service hall's queue machine decides by the colour: green a number,
// yellow the designated window (or refused, by the hall's policy), red
// refused; a booking for now is used; the resident rates the served ticket
// once; a terminal signs a resident in with their consent, once.
func TestServiceHallThroughTheGateway(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		hall := e.org(admin, "service_hall", "宁国市政务服务中心", "MA2NA05F", "341881001")
		_, machine := e.orgKey(admin, hall, map[string]any{"name": "取号机", "scopes": []string{"scan", "hall.queue", "hall.terminal", "booking.slots"}})
		now := time.Now()
		slot := e.Want(e.Do("POST", "/gateway/v1/booking/slots", machine, map[string]any{"starts_at": now.Add(-time.Minute),
			"ends_at": now.Add(time.Hour), "capacity": 5}), 201, "").Str("id")

		green, _ := e.Resident("13900000611", "韩梅", rid("19900101", 611), "341881001")
		booked, _ := e.Resident("13900000612", "李雷", rid("19900202", 612), "341881001")
		yellow, yellowID := e.Resident("13900000613", "郑国强", rid("19580411", 613), "341881001")
		red, redID := e.Resident("13900000614", "钱红", rid("19800101", 614), "341881001")
		e.Want(e.fact(admin, yellowID, "clinic.fever", time.Now().Add(-time.Hour), map[string]any{"clinic": "other"}), 201, "")
		e.Want(e.fact(admin, redID, "case.confirmed", time.Now().Add(-time.Hour), nil), 201, "")
		e.Want(e.Do("POST", "/api/v1/me/bookings", booked, map[string]any{"slot_id": slot}), 201, "")

		take := func(tok, service string) resp {
			return e.Do("POST", "/gateway/v1/hall/tickets", machine, map[string]any{"code": e.myCode(tok), "service": service})
		}
		e.Want(take(red, "户籍办理"), 409, "queue_refused_red")
		e.Want(take(green, ""), 400, "service_invalid")
		e.Want(e.Do("POST", "/gateway/v1/hall/tickets", machine, map[string]any{"code": forgedCode(t), "service": "户籍办理"}), 422, "code_issuer_unknown")
		code := e.myCode(green)
		e.App.Codes.SetClock(func() time.Time { return time.Now().Add(time.Hour) })
		e.Want(e.Do("POST", "/gateway/v1/hall/tickets", machine, map[string]any{"code": code, "service": "户籍办理"}), 422, "code_expired")
		e.App.Codes.SetClock(time.Now)
		if n := e.Count("hall_tickets"); n != 0 {
			t.Fatal("a refused ticket was stored")
		}
		g := e.Want(take(green, "户籍办理"), 201, "")
		if g.Body["number"] != 1.0 || g.Str("line") != "户籍办理" || g.Body["routed"] != false || g.Body["booked"] != false {
			t.Fatalf("green: %s", g.Raw)
		}
		if b := e.Want(take(booked, "户籍办理"), 201, ""); b.Body["number"] != 2.0 || b.Body["booked"] != true {
			t.Fatalf("booked: %s", b.Raw)
		}
		y := e.Want(take(yellow, "户籍办理"), 201, "")
		if y.Str("line") != "黄码专窗" || y.Body["routed"] != true || fmt.Sprint(y.Body["reasons"]) != "[color_yellow]" {
			t.Fatalf("yellow: %s", y.Raw)
		}
		e.Want(e.Do("PUT", "/gateway/v1/hall/policy", machine, map[string]any{"yellow": "refuse"}), 200, "")
		e.Want(take(yellow, "户籍办理"), 409, "queue_refused_yellow")
		e.Want(e.Do("PUT", "/gateway/v1/hall/policy", machine, map[string]any{"yellow": "window"}), 400, "hall_policy_invalid")

		// Rating: after the service, once, by the holder.
		id := g.Str("id")
		rate := func(tok string, stars int) resp {
			return e.Do("POST", "/api/v1/me/hall/tickets/"+id+"/rating", tok, map[string]any{"stars": stars})
		}
		e.Want(rate(green, 5), 409, "ticket_not_served")
		e.Want(e.Do("POST", "/gateway/v1/hall/tickets/"+id+"/done", machine, nil), 200, "")
		e.Want(rate(green, 9), 400, "rating_invalid")
		e.Want(rate(booked, 5), 404, "ticket_not_found")
		if r := e.Want(rate(green, 4), 200, ""); r.Body["rating"] != 4.0 {
			t.Fatalf("rated: %s", r.Raw)
		}
		e.Want(rate(green, 1), 409, "already_rated")
		day := e.Want(e.Do("GET", "/gateway/v1/hall/tickets", machine, nil), 200, "")
		if len(day.Body["tickets"].([]any)) != 3 || day.Body["routed"] != 1.0 || day.Body["booked"] != 1.0 || day.Body["rating"] != 4.0 {
			t.Fatalf("the day: %s", day.Raw)
		}

		// A terminal sign-in.
		l := e.Want(e.Do("POST", "/gateway/v1/hall/logins", machine, map[string]any{}), 201, "")
		lid := l.Str("id")
		if p := e.Want(e.Do("GET", "/gateway/v1/hall/logins/"+lid, machine, nil), 200, ""); p.Str("state") != "pending" || p.Body["identity"] != nil {
			t.Fatalf("pending: %s", p.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/me/hall/logins/"+lid, green, map[string]any{"approve": true}), 200, "")
		e.Want(e.Do("POST", "/api/v1/me/hall/logins/"+lid, booked, map[string]any{"approve": true}), 409, "login_decided")
		got := e.Want(e.Do("GET", "/gateway/v1/hall/logins/"+lid, machine, nil), 200, "")
		if idn := got.Body["identity"].(map[string]any); idn["name"] != "韩梅" || idn["id_number"] != rid("19900101", 611) || idn["purpose"] != "hall_login" {
			t.Fatalf("identity: %s", got.Raw)
		}
		e.Want(e.Do("GET", "/gateway/v1/hall/logins/"+lid, machine, nil), 409, "login_used")
	})
}

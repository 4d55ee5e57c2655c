package fact

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
)

var t0 = time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC)

// valid holds one acceptable fact per kind, as a feature would send it
// (attributes decoded from JSON, so numbers are float64).
var valid = map[string]Fact{
	CaseConfirmed:    {Kind: CaseConfirmed, At: t0, Attrs: map[string]any{"case_id": "NG-2022-001", "severity": "mild", "hospital": "宁国市人民医院"}},
	CaseAsymptomatic: {Kind: CaseAsymptomatic, At: t0, Attrs: map[string]any{"case_id": "NG-2022-002"}},
	CaseReleased:     {Kind: CaseReleased, At: t0, Attrs: map[string]any{"reason": "recovered"}},
	ContactClose:     {Kind: ContactClose, At: t0, Attrs: map[string]any{"case_person": "p1", "venue": "v1", "case_at": "2022-03-31T10:00:00+08:00", "person_at": t0, "overlap_minutes": 25.0}},
	ContactSecondary: {Kind: ContactSecondary, At: t0, Attrs: map[string]any{"via_person": "p2"}},
	ContactCompanion: {Kind: ContactCompanion, At: t0, Attrs: map[string]any{"case_person": "p1", "venue": "v1", "case_at": "2022-03-31T10:00:00+08:00", "person_at": "2022-03-31T10:20:00+08:00", "overlap_minutes": 10.0, "tracing_run": "run-7"}},
	NATResult:        {Kind: NATResult, At: t0, Attrs: map[string]any{"result": "mixed_positive", "tube": "T0001", "tube_capacity": 10.0, "site": "s1"}},
	VaccineDose:      {Kind: VaccineDose, At: t0, Attrs: map[string]any{"dose": 3.0, "product": "CoronaVac"}},
	ClinicFever:      {Kind: ClinicFever, At: t0, Attrs: map[string]any{"clinic": "h1", "temperature": 38.2, "symptoms": []any{"fever", "dry_cough"}}},
	PharmacyPurchase: {Kind: PharmacyPurchase, At: t0, Attrs: map[string]any{"drug_class": "antiviral", "pharmacy": "ph1"}},
	Isolation:        {Kind: Isolation, At: t0, Until: t0.Add(14 * 24 * time.Hour), Attrs: map[string]any{"mode": "centralized", "reason": "close_contact"}},
	Declaration:      {Kind: Declaration, At: t0, Attrs: map[string]any{"temperature": 36.5, "symptoms": []any{}, "exposure": false}},
	Temperature:      {Kind: Temperature, At: t0, Attrs: map[string]any{"celsius": 37.3, "checkpoint": "cp1"}},
	ArrivalInbound:   {Kind: ArrivalInbound, At: t0, Attrs: map[string]any{"origin": "310000", "origin_risk": "high", "transport": "rail"}},
	VisitRiskArea:    {Kind: VisitRiskArea, At: t0, Until: t0.Add(6 * time.Hour), Attrs: map[string]any{"region": "310115", "level": "medium", "stay_hours": 6.0}},
	AppealGranted:    {Kind: AppealGranted, At: t0, Until: t0.Add(72 * time.Hour), Attrs: map[string]any{"appeal": "a1", "note": "核酸阴性，误判"}},
	ColdChainExposure: {Kind: ColdChainExposure, At: t0, Attrs: map[string]any{"batch": "b1", "product": "冻带鱼", "holder": "o1",
		"handled_at": "2022-03-30T09:00:00+08:00", "inspection": "i1", "run": "r1"}},
}

func TestEveryKindHasAValidExample(t *testing.T) {
	for _, k := range Kinds() {
		f, ok := valid[k.Kind]
		if !ok {
			t.Errorf("no valid example for %s", k.Kind)
			continue
		}
		if err := f.Validate(); err != nil {
			t.Errorf("%s: %v", k.Kind, err)
		}
	}
	if len(valid) != len(Kinds()) {
		t.Errorf("%d examples for %d kinds", len(valid), len(Kinds()))
	}
}

func with(kind string, change func(f *Fact)) Fact {
	f := valid[kind]
	attrs := make(map[string]any, len(f.Attrs))
	for k, v := range f.Attrs {
		attrs[k] = v
	}
	f.Attrs = attrs
	change(&f)
	return f
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name string
		f    Fact
		code string
		in   string // part of the message
	}{
		{"unknown kind", Fact{Kind: "case.suspected", At: t0}, "fact_kind_unknown", "case.suspected"},
		{"empty kind", Fact{At: t0}, "fact_kind_unknown", `""`},
		{"no at", with(CaseConfirmed, func(f *Fact) { f.At = time.Time{} }), "fact_at_missing", "at"},
		{"appeal without until", with(AppealGranted, func(f *Fact) { f.Until = time.Time{} }), "fact_until_required", "until"},
		{"isolation without until", with(Isolation, func(f *Fact) { f.Until = time.Time{} }), "fact_until_required", "until"},
		{"test with until", with(NATResult, func(f *Fact) { f.Until = t0.Add(time.Hour) }), "fact_until_not_allowed", "nat.result"},
		{"until before at", with(AppealGranted, func(f *Fact) { f.Until = t0.Add(-time.Second) }), "fact_until_before_at", "after at"},
		{"until equal to at", with(VisitRiskArea, func(f *Fact) { f.Until = t0 }), "fact_until_before_at", "after at"},
		{"unknown attribute", with(NATResult, func(f *Fact) { f.Attrs["ct_value"] = 30.0 }), "fact_attr_unknown", "ct_value"},
		{"missing required", with(NATResult, func(f *Fact) { delete(f.Attrs, "result") }), "fact_attr_missing", `"result"`},
		{"null required", with(NATResult, func(f *Fact) { f.Attrs["result"] = nil }), "fact_attr_missing", `"result"`},
		{"enum wrong type", with(NATResult, func(f *Fact) { f.Attrs["result"] = true }), "fact_attr_type", "a string"},
		{"enum unknown value", with(NATResult, func(f *Fact) { f.Attrs["result"] = "neg" }), "fact_attr_not_allowed", "neg"},
		{"int not integral", with(VaccineDose, func(f *Fact) { f.Attrs["dose"] = 1.5 }), "fact_attr_type", "integer"},
		{"int given as string", with(VaccineDose, func(f *Fact) { f.Attrs["dose"] = "1" }), "fact_attr_type", "a string"},
		{"int below min", with(VaccineDose, func(f *Fact) { f.Attrs["dose"] = 0 }), "fact_attr_out_of_range", "between 1 and 10"},
		{"tube capacity not offered", with(NATResult, func(f *Fact) { f.Attrs["tube_capacity"] = 3.0 }), "fact_attr_out_of_range", "1, 5, 10, 20"},
		{"declared temperature too high", with(Declaration, func(f *Fact) { f.Attrs["temperature"] = 43.5 }), "fact_attr_out_of_range", "between 34 and 43"},
		{"declared temperature too low", with(Declaration, func(f *Fact) { f.Attrs["temperature"] = 33.9 }), "fact_attr_out_of_range", "between 34 and 43"},
		{"checkpoint reading below fever", with(Temperature, func(f *Fact) { f.Attrs["celsius"] = 37.2 }), "fact_attr_out_of_range", "between 37.3 and 43"},
		{"number given as string", with(Temperature, func(f *Fact) { f.Attrs["celsius"] = "38" }), "fact_attr_type", "a number"},
		{"bool given as string", with(Declaration, func(f *Fact) { f.Attrs["exposure"] = "yes" }), "fact_attr_type", "a boolean"},
		{"symptom not in vocabulary", with(Declaration, func(f *Fact) { f.Attrs["symptoms"] = []any{"fever", "headache"} }), "fact_attr_not_allowed", "headache"},
		{"symptom twice", with(Declaration, func(f *Fact) { f.Attrs["symptoms"] = []string{"fever", "fever"} }), "fact_attr_duplicate", "fever"},
		{"symptoms not a list", with(Declaration, func(f *Fact) { f.Attrs["symptoms"] = "fever" }), "fact_attr_type", "list of strings"},
		{"symptoms with a number", with(Declaration, func(f *Fact) { f.Attrs["symptoms"] = []any{"fever", 1.0} }), "fact_attr_type", "list of strings"},
		{"empty string", with(ClinicFever, func(f *Fact) { f.Attrs["clinic"] = "" }), "fact_attr_out_of_range", "empty"},
		{"string too long", with(AppealGranted, func(f *Fact) { f.Attrs["note"] = strings.Repeat("长", 1001) }), "fact_attr_out_of_range", "1001 characters"},
		{"bad region code", with(VisitRiskArea, func(f *Fact) { f.Attrs["region"] = "31011" }), "fact_attr_format", "6-digit"},
		{"bad origin", with(ArrivalInbound, func(f *Fact) { f.Attrs["origin"] = "usa" }), "fact_attr_format", "alpha-3"},
		{"bad time", with(ContactCompanion, func(f *Fact) { f.Attrs["case_at"] = "yesterday" }), "fact_attr_type", "RFC 3339"},
		{"time as number", with(ContactCompanion, func(f *Fact) { f.Attrs["case_at"] = 1648771200.0 }), "fact_attr_type", "RFC 3339"},
		{"companion without place", with(ContactCompanion, func(f *Fact) { delete(f.Attrs, "venue") }), "fact_attr_conflict", "venue or grid"},
		{"mixed positive in single tube", with(NATResult, func(f *Fact) { f.Attrs["tube_capacity"] = 1 }), "fact_attr_conflict", "mixed tube"},
		{"mixed positive without capacity", with(NATResult, func(f *Fact) { delete(f.Attrs, "tube_capacity") }), "fact_attr_conflict", "mixed tube"},
		{"positive in mixed tube", with(NATResult, func(f *Fact) { f.Attrs["result"] = "positive" }), "fact_attr_conflict", "mixed_positive"},
		{"correction without tube", with(NATResult, func(f *Fact) { delete(f.Attrs, "tube"); f.Attrs["correction"] = true }), "fact_attr_conflict", "correction"},
		{"correction not a bool", with(NATResult, func(f *Fact) { f.Attrs["correction"] = "yes" }), "fact_attr_type", "correction"},
		{"level low is not a risk area", with(VisitRiskArea, func(f *Fact) { f.Attrs["level"] = "low" }), "fact_attr_not_allowed", "medium, high"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			e, ok := apierr.As(err)
			if !ok {
				t.Fatalf("got %v, want an apierr %s", err, tt.code)
			}
			if e.Code != tt.code || e.Status != 400 {
				t.Fatalf("got %d %s (%s), want 400 %s", e.Status, e.Code, e.Message, tt.code)
			}
			if !strings.Contains(e.Message, tt.in) {
				t.Errorf("message %q does not mention %q", e.Message, tt.in)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		f    Fact
	}{
		{"single negative without capacity", Fact{Kind: NATResult, At: t0, Attrs: map[string]any{"result": "negative"}}},
		{"single positive", Fact{Kind: NATResult, At: t0, Attrs: map[string]any{"result": "positive", "tube_capacity": int64(1)}}},
		{"json.Number", with(VaccineDose, func(f *Fact) { f.Attrs["dose"] = json.Number("2") })},
		{"go int", with(VaccineDose, func(f *Fact) { f.Attrs["dose"] = 2 })},
		{"threshold reading", with(Temperature, func(f *Fact) { f.Attrs["celsius"] = 37.3 })},
		{"declaration with nothing", Fact{Kind: Declaration, At: t0}},
		{"open visit", with(VisitRiskArea, func(f *Fact) { f.Until = time.Time{} })},
		{"country origin", with(ArrivalInbound, func(f *Fact) { f.Attrs["origin"] = "USA"; f.Attrs["international"] = true })},
		{"companion on a grid", with(ContactCompanion, func(f *Fact) { delete(f.Attrs, "venue"); f.Attrs["grid"] = "cd-800-1234" })},
		{"null optional", with(NATResult, func(f *Fact) { f.Attrs["site"] = nil })},
		{"correction of a tube", with(NATResult, func(f *Fact) { f.Attrs["correction"] = true })},
	}
	for _, tt := range tests {
		if err := tt.f.Validate(); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestKindsAreDescribed(t *testing.T) {
	doc, err := os.ReadFile("../../docs/FACTS.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k.Kind] {
			t.Errorf("%s listed twice", k.Kind)
		}
		seen[k.Kind] = true
		if k.Label.ZH == "" || k.Label.EN == "" || k.Doc == "" || k.At == "" || k.Until == "" {
			t.Errorf("%s: incomplete description %+v", k.Kind, k)
		}
		if !strings.Contains(string(doc), "`"+k.Kind+"`") {
			t.Errorf("docs/FACTS.md does not describe %s", k.Kind)
		}
		for _, a := range k.Attrs {
			if a.Label.ZH == "" || a.Label.EN == "" || a.Doc == "" {
				t.Errorf("%s.%s: incomplete description", k.Kind, a.Name)
			}
			if !strings.Contains(string(doc), "`"+a.Name+"`") {
				t.Errorf("docs/FACTS.md does not describe %s.%s", k.Kind, a.Name)
			}
			if (a.Type == TypeEnum || a.Type == TypeEnumList) && len(a.Values) == 0 {
				t.Errorf("%s.%s: enum without values", k.Kind, a.Name)
			}
		}
	}
	for _, want := range []string{"case.confirmed", "case.asymptomatic", "case.released", "contact.close",
		"contact.secondary", "contact.companion", "nat.result", "vaccine.dose", "clinic.fever",
		"pharmacy.purchase", "isolation", "declaration", "temperature", "arrival.inbound",
		"visit.risk_area", "appeal.granted"} {
		if !seen[want] {
			t.Errorf("kind %s missing", want)
		}
	}
}

func TestKindsIsACopy(t *testing.T) {
	k := Kinds()
	k[0].Attrs[0].Name = "changed"
	k[0].Kind = "changed"
	if Kinds()[0].Kind == "changed" || Kinds()[0].Attrs[0].Name == "changed" {
		t.Fatal("Kinds exposes the registry")
	}
	info, ok := Lookup(NATResult)
	if !ok || info.Label.ZH != "核酸检测结果" {
		t.Fatalf("Lookup(nat.result) = %+v, %v", info, ok)
	}
	if _, ok := Lookup("nope"); ok {
		t.Fatal("Lookup of an unknown kind succeeded")
	}
}

func TestAttrDefault(t *testing.T) {
	f := Fact{Kind: NATResult, At: t0, Attrs: map[string]any{"result": "negative"}}
	if v, ok := f.Attr("tube_capacity"); !ok || v != int64(1) {
		t.Errorf("absent tube_capacity = %v, %v; want the single-tube default", v, ok)
	}
	f.Attrs["tube_capacity"] = 10.0
	if v, _ := f.Attr("tube_capacity"); v != 10.0 {
		t.Errorf("tube_capacity = %v, want the recorded 10", v)
	}
	if _, ok := f.Attr("site"); ok {
		t.Error("absent site without default reported present")
	}
}

func TestActiveAt(t *testing.T) {
	f := Fact{Kind: Isolation, At: t0, Until: t0.Add(time.Hour)}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{t0.Add(-time.Millisecond), false}, {t0, true}, {t0.Add(time.Hour - time.Millisecond), true}, {t0.Add(time.Hour), false},
	} {
		if got := f.ActiveAt(c.at); got != c.want {
			t.Errorf("ActiveAt(%v) = %v", c.at, got)
		}
	}
	open := Fact{Kind: VisitRiskArea, At: t0}
	if !open.ActiveAt(t0.Add(1000*time.Hour)) || !open.Open() {
		t.Error("an open fact must stay active")
	}
}

func TestDeclarations(t *testing.T) {
	tests := []struct {
		attrs             map[string]any
		illness, exposure bool
	}{
		{map[string]any{"temperature": 36.8}, false, false},
		{map[string]any{"temperature": 37.3}, true, false},
		{map[string]any{"temperature": 37.29, "symptoms": []any{}}, false, false},
		{map[string]any{"symptoms": []any{"diarrhea"}}, true, false},
		{map[string]any{"symptoms": []string{"fatigue"}}, true, false},
		{map[string]any{"exposure": true}, false, true},
		{nil, false, false},
	}
	for _, tt := range tests {
		f := Fact{Kind: Declaration, At: t0, Attrs: tt.attrs}
		if f.DeclaresIllness() != tt.illness || f.DeclaresExposure() != tt.exposure {
			t.Errorf("%v: illness %v exposure %v", tt.attrs, f.DeclaresIllness(), f.DeclaresExposure())
		}
	}
	other := Fact{Kind: ClinicFever, At: t0, Attrs: map[string]any{"temperature": 39.0}}
	if other.DeclaresIllness() {
		t.Error("a clinic visit is not a declaration")
	}
}

func TestJSONShape(t *testing.T) {
	f := Fact{Kind: NATResult, At: t0, Attrs: map[string]any{"result": "negative"}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"kind":"nat.result","at":"2022-04-01T08:00:00Z","attrs":{"result":"negative"}}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var back Fact
	if err := json.Unmarshal([]byte(`{"kind":"appeal.granted","at":"2022-04-01T16:00:00+08:00","until":"2022-04-04T16:00:00+08:00","attrs":{"appeal":"a1"},"recorded_at":"2022-04-01T16:00:05+08:00"}`), &back); err != nil {
		t.Fatal(err)
	}
	if !back.At.Equal(t0) || back.Until.Sub(back.At) != 72*time.Hour || back.Recorded().Sub(t0) != 5*time.Second {
		t.Errorf("decoded %+v", back)
	}
	if err := back.Validate(); err != nil {
		t.Error(err)
	}
}

func TestValidateAtRefusesTheFuture(t *testing.T) {
	now := time.Date(2022, 4, 1, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name      string
		kind      string
		at, until time.Time
		code      string
	}{
		{"case in 2030", CaseConfirmed, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}, "fact_at_future"},
		{"contact in 9999", ContactClose, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}, "fact_at_future"},
		{"contact an hour ahead", ContactClose, now.Add(time.Hour), time.Time{}, "fact_at_future"},
		{"contact within the skew", ContactClose, now.Add(MaxSkew), time.Time{}, ""},
		{"contact yesterday", ContactClose, now.Add(-day), time.Time{}, ""},
		{"isolation ordered for Monday", Isolation, now.Add(3 * day), now.Add(17 * day), ""},
		{"isolation until 9999", Isolation, now, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "fact_until_too_far"},
		{"isolation starting in two years", Isolation, now.Add(730 * day), now.Add(744 * day), "fact_at_future"},
	} {
		var attrs map[string]any
		if tc.kind == Isolation {
			attrs = map[string]any{"mode": "home"}
		}
		err := ValidateAt(tc.kind, tc.at, tc.until, attrs, now)
		if tc.code == "" && err != nil || tc.code != "" && (err == nil || !strings.Contains(err.Error(), tc.code)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
	}
}

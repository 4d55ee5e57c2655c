package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

// StoredFact is a recorded fact about a person.
type StoredFact struct {
	ID         string         `json:"id"`
	Kind       string         `json:"kind" doc:"the kind of fact (docs/FACTS.md), e.g. nat.result or case.confirmed"`
	At         time.Time      `json:"at" doc:"when it became true"`
	Until      time.Time      `json:"until,omitzero" doc:"when it stops being true, if the kind has an end"`
	Attrs      map[string]any `json:"attrs" doc:"the kind's attributes"`
	Source     string         `json:"source,omitempty" doc:"the record that produced it: a tracing run, a lab upload, an integrator's reference"`
	RecordedAt time.Time      `json:"recorded_at"`
	RecordedBy string         `json:"recorded_by"`
}

func storedFacts(fs []status.Stored) []StoredFact {
	out := make([]StoredFact, len(fs))
	for i, f := range fs {
		out[i] = StoredFact{ID: f.ID, Kind: f.Kind, At: f.At, Until: f.Until, Attrs: f.Attrs, Source: f.Source, RecordedAt: f.RecordedAt,
			RecordedBy: f.RecordedBy}
	}
	return out
}

// FactRequest is POST /admin/facts.
type FactRequest struct {
	PersonID string         `json:"person_id"`
	Kind     string         `json:"kind"`
	At       timeField      `json:"at"`
	Until    *timeField     `json:"until,omitempty"`
	Attrs    map[string]any `json:"attrs,omitempty"`
	Source   string         `json:"source,omitempty"`
	Key      string         `json:"key,omitempty" doc:"makes the post idempotent: a key already recorded changes nothing (200, created false)"`
}

// FactPosted is the answer to POST /admin/facts.
type FactPosted struct {
	Created  bool        `json:"created" doc:"false when the key was already recorded"`
	PersonID string      `json:"person_id"`
	Status   *StatusView `json:"status,omitempty" doc:"the colour after the fact, for operators and keys with the status scope"`
}

// DeclarationRequest is POST /me/declarations: the daily health
// declaration (打卡).
type DeclarationRequest struct {
	PersonID    string   `json:"person_id,omitempty" doc:"a dependent's id; the resident themselves if left out"`
	Temperature *float64 `json:"temperature,omitempty" doc:"degrees Celsius"`
	Symptoms    []string `json:"symptoms,omitempty"`
	Exposure    *bool    `json:"exposure,omitempty"`
}

// DeclarationResponse is a recorded declaration and the colour after it.
type DeclarationResponse struct {
	DeclaredAt time.Time  `json:"declared_at"`
	PersonID   string     `json:"person_id"`
	Status     StatusView `json:"status"`
}

// ResidentFact is one of a resident's own records.
type ResidentFact struct {
	ID    string         `json:"id" doc:"what an appeal's evidence refers to"`
	Kind  string         `json:"kind"`
	Label Text           `json:"label"`
	At    time.Time      `json:"at"`
	Until time.Time      `json:"until,omitzero"`
	Attrs map[string]any `json:"attrs"`
}

// ResidentFactsResponse is GET /me/facts.
type ResidentFactsResponse struct {
	Facts    []ResidentFact `json:"facts"`
	PersonID string         `json:"person_id"`
}

// RuleSet is a rule set, as docs/RULES.md describes it: the body of POST
// /admin/rules and what the rule endpoints show.
type RuleSet struct {
	Rules    []Rule        `json:"rules"`
	Examples []RuleExample `json:"examples,omitempty"`
}

// Rule is one rule of a set.
type Rule struct {
	ID        string    `json:"id"`
	Color     Color     `json:"color"`
	Condition string    `json:"condition" doc:"a CEL expression of type bool over facts and now"`
	Until     string    `json:"until,omitempty" doc:"a CEL expression of type timestamp: when the rule stops matching by time alone"`
	Reason    Text      `json:"reason"`
	Advice    Text      `json:"advice,omitzero"`
	ValidFrom time.Time `json:"valid_from,omitzero"`
	ValidTo   time.Time `json:"valid_to,omitzero"`
}

// RuleExample is a case a set must decide as it says.
type RuleExample struct {
	Name         string        `json:"name"`
	Now          time.Time     `json:"now"`
	Facts        []ExampleFact `json:"facts"`
	WantColor    Color         `json:"want_color"`
	WantRule     string        `json:"want_rule,omitempty"`
	WantNextEval time.Time     `json:"want_next_eval,omitzero"`
}

// ExampleFact is a fact of a rule example.
type ExampleFact struct {
	Kind       string         `json:"kind"`
	At         time.Time      `json:"at"`
	Until      time.Time      `json:"until,omitzero"`
	Attrs      map[string]any `json:"attrs,omitempty"`
	Source     string         `json:"source,omitempty"`
	RecordedAt time.Time      `json:"recorded_at,omitzero"`
}

func ruleSet(set rules.Set) RuleSet {
	out := RuleSet{Rules: make([]Rule, len(set.Rules))}
	for i, r := range set.Rules {
		out.Rules[i] = Rule{ID: r.ID, Color: color(r.Color), Condition: r.Condition, Until: r.Until, Reason: text(r.Reason),
			Advice: text(r.Advice), ValidFrom: r.ValidFrom, ValidTo: r.ValidTo}
	}
	for _, e := range set.Examples {
		x := RuleExample{Name: e.Name, Now: e.Now, Facts: make([]ExampleFact, len(e.Facts)), WantColor: color(e.WantColor),
			WantRule: e.WantRule, WantNextEval: e.WantNextEval}
		for i, f := range e.Facts {
			x.Facts[i] = exampleFact(f)
		}
		out.Examples = append(out.Examples, x)
	}
	return out
}

func exampleFact(f fact.Fact) ExampleFact {
	return ExampleFact{Kind: f.Kind, At: f.At, Until: f.Until, Attrs: f.Attrs, Source: f.Source, RecordedAt: f.RecordedAt}
}

// RuleVersion is a stored version of the rule set.
type RuleVersion struct {
	Version   int64     `json:"version"`
	Rules     int       `json:"rules"`
	Examples  int       `json:"examples"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	Active    bool      `json:"active"`
}

func ruleVersion(v status.Version) RuleVersion { return RuleVersion(v) }

// RuleActivation is one activation of a version.
type RuleActivation struct {
	Version     int64     `json:"version"`
	ActivatedAt time.Time `json:"activated_at"`
	ActivatedBy string    `json:"activated_by"`
	Job         int64     `json:"recompute_job,omitempty"`
}

// RecomputeJob is the recompute of everyone after an activation.
type RecomputeJob struct {
	ID         int64     `json:"id"`
	Version    int64     `json:"rules_version"`
	State      string    `json:"state" doc:"running, done or superseded"`
	Done       int64     `json:"done"`
	Total      int64     `json:"total"`
	Changed    int64     `json:"changed"`
	Cursor     int64     `json:"cursor"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Owner      string    `json:"owner,omitempty"`
}

func recomputeJob(j *status.Job) *RecomputeJob {
	if j == nil {
		return nil
	}
	return &RecomputeJob{ID: j.ID, Version: j.Version, State: j.State, Done: j.Done, Total: j.Total, Changed: j.Changed,
		Cursor: j.Cursor, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, Owner: j.Owner}
}

// RulesOverview is GET /admin/rules.
type RulesOverview struct {
	Active      RuleVersion      `json:"active"`
	ActiveSet   RuleSet          `json:"active_set"`
	Versions    []RuleVersion    `json:"versions"`
	Activations []RuleActivation `json:"activations"`
	Recompute   *RecomputeJob    `json:"recompute" doc:"the latest recompute; null before the first"`
}

func rulesOverview(o status.Overview) RulesOverview {
	out := RulesOverview{Active: ruleVersion(o.Active), ActiveSet: ruleSet(o.ActiveSet), Versions: make([]RuleVersion, len(o.Versions)),
		Activations: make([]RuleActivation, len(o.Activations)), Recompute: recomputeJob(o.Recompute)}
	for i, v := range o.Versions {
		out.Versions[i] = ruleVersion(v)
	}
	for i, a := range o.Activations {
		out.Activations[i] = RuleActivation(a)
	}
	return out
}

// RuleSetResponse is GET /admin/rules/{version}.
type RuleSetResponse struct {
	Set     RuleSet     `json:"set"`
	Version RuleVersion `json:"version"`
}

// ActivateResponse is POST /admin/rules/{version}/activate.
type ActivateResponse struct {
	Recompute *RecomputeJob `json:"recompute"`
	Version   int64         `json:"version"`
}

// RecomputeResponse is GET /admin/rules/recompute.
type RecomputeResponse struct {
	Recompute *RecomputeJob `json:"recompute" doc:"null before the first activation"`
}

// DryRunResponse is who in the caller's scope would change colour under a
// version.
type DryRunResponse struct {
	Version     int64              `json:"version"`
	Scope       string             `json:"scope"`
	At          time.Time          `json:"at"`
	Evaluated   int64              `json:"evaluated"`
	Unchanged   int64              `json:"unchanged" doc:"same colour"`
	RuleChanged int64              `json:"rule_changed" doc:"same colour, another deciding rule"`
	Transitions []ColorTransition  `json:"transitions"`
	Sample      []DryRunSampleItem `json:"sample"`
}

// ColorTransition counts the persons who would go from one colour to another.
type ColorTransition struct {
	From  Color `json:"from"`
	To    Color `json:"to"`
	Count int64 `json:"count"`
}

// DryRunSampleItem is one person who would change colour, masked.
type DryRunSampleItem struct {
	PersonID   string `json:"person_id"`
	MaskedName string `json:"masked_name"`
	Region     string `json:"region"`
	From       Color  `json:"from"`
	To         Color  `json:"to"`
	RuleID     string `json:"rule_id"`
	Reason     Text   `json:"reason"`
}

func dryRun(d *status.DryRun) DryRunResponse {
	out := DryRunResponse{Version: d.Version, Scope: d.Scope, At: d.At, Evaluated: d.Evaluated, Unchanged: d.Unchanged,
		RuleChanged: d.RuleChanged, Transitions: make([]ColorTransition, len(d.Transitions)), Sample: make([]DryRunSampleItem, len(d.Sample))}
	for i, t := range d.Transitions {
		out.Transitions[i] = ColorTransition{From: color(t.From), To: color(t.To), Count: t.Count}
	}
	for i, s := range d.Sample {
		out.Sample[i] = DryRunSampleItem{PersonID: s.PersonID, MaskedName: s.MaskedName, Region: s.Region, From: color(s.From),
			To: color(s.To), RuleID: s.RuleID, Reason: text(s.Reason)}
	}
	return out
}

// TownColors counts the colours of a town's residents.
type TownColors struct {
	Region     string `json:"region"`
	Registered int64  `json:"registered"`
	Green      int64  `json:"green"`
	Yellow     int64  `json:"yellow"`
	Red        int64  `json:"red"`
}

// TownColorsNamed is a town's row, with its name.
type TownColorsNamed struct {
	TownColors
	Name string `json:"name"`
}

// StatsResponse is GET /admin/stats.
type StatsResponse struct {
	Total TownColors        `json:"total"`
	Towns []TownColorsNamed `json:"towns"`
}

// AppealRequest is POST /me/appeals.
type AppealRequest struct {
	PersonID    string   `json:"person_id,omitempty" doc:"a dependent's id; the resident themselves if left out"`
	Reason      string   `json:"reason"`
	Evidence    []string `json:"evidence,omitempty" doc:"ids of the person's own test results (GET /me/facts)"`
	Credentials []string `json:"credentials,omitempty" doc:"outside evidence, each as scanned or downloaded: a code or test certificate of another region (JKM1:), an EU DCC (HC1:), a SMART Health Card (shc:/, JWS or card file); at most 5, each verified by signature"`
}

// AppealCredential is outside evidence attached to an appeal, as it
// verified when the appeal was filed.
type AppealCredential struct {
	Format      string    `json:"format" doc:"health_code (this or another region's code or test certificate), eu_dcc or shc"`
	Verified    bool      `json:"verified" doc:"the signature held under trust this deployment holds (the hub's bundle, imported signer certificates and issuer keys) and the credential is current"`
	Reasons     []string  `json:"reasons" doc:"why it did not verify (the reasons of POST /verify and POST /verify/foreign)"`
	Issuer      string    `json:"issuer,omitempty" doc:"issuing region code, or ISO 3166 country"`
	Kind        string    `json:"kind,omitempty" doc:"dynamic, care, certificate; vaccination, test, recovery"`
	Result      string    `json:"result,omitempty" doc:"a test's result"`
	ResultAt    time.Time `json:"result_at,omitzero" doc:"a test's sampling time"`
	Color       string    `json:"color,omitempty" doc:"a health code's colour when checked"`
	ColorSource string    `json:"color_source,omitempty" doc:"live (its issuer answered through the hub), code (the colour inside it) or local"`
	Holder      string    `json:"holder,omitempty" doc:"the holder's name as the credential gives it, masked"`
	BirthDate   string    `json:"birth_date,omitempty"`
	CheckedAt   time.Time `json:"checked_at"`
}

func appealCredentials(cs []status.Credential) []AppealCredential {
	out := make([]AppealCredential, len(cs))
	for i, c := range cs {
		out[i] = AppealCredential{Format: c.Format, Verified: c.Valid, Reasons: nonNil(c.Reasons), Issuer: c.Issuer, Kind: c.Kind,
			Result: c.Result, ResultAt: c.ResultAt, Color: c.Color, ColorSource: c.ColorSource, Holder: c.Holder,
			BirthDate: c.BirthDate, CheckedAt: c.CheckedAt}
	}
	return out
}

// AppealResponse is an appeal against a colour.
type AppealResponse struct {
	ID          string             `json:"id"`
	PersonID    string             `json:"person_id"`
	Region      string             `json:"region"`
	Reason      string             `json:"reason"`
	Evidence    []string           `json:"evidence"`
	Credentials []AppealCredential `json:"credentials" doc:"outside evidence attached, as verified when filed"`
	Color       Color              `json:"color" doc:"the colour appealed against"`
	RuleID      string             `json:"rule_id" doc:"the rule that decided it"`
	State       string             `json:"state" doc:"pending, granted or rejected"`
	Auto        bool               `json:"auto" doc:"granted by the evidence check, without an operator"`
	Note        string             `json:"note,omitempty"`
	Until       time.Time          `json:"until,omitzero" doc:"a grant holds until then"`
	DecidedBy   string             `json:"decided_by,omitempty"`
	DecidedAt   time.Time          `json:"decided_at,omitzero"`
	CreatedAt   time.Time          `json:"created_at"`
}

func appealResponse(a *status.Appeal) AppealResponse {
	return AppealResponse{ID: a.ID, PersonID: a.PersonID, Region: a.Region, Reason: a.Reason, Evidence: nonNil(a.Evidence),
		Credentials: appealCredentials(a.Credentials), Color: color(a.Color), RuleID: a.RuleID, State: a.State, Auto: a.Auto, Note: a.Note, Until: a.Until, DecidedBy: a.DecidedBy,
		DecidedAt: a.DecidedAt, CreatedAt: a.CreatedAt}
}

func appealList(as []*status.Appeal) AppealListResponse {
	out := AppealListResponse{Appeals: make([]AppealResponse, len(as))}
	for i, a := range as {
		out.Appeals[i] = appealResponse(a)
	}
	return out
}

// AppealListResponse lists appeals.
type AppealListResponse struct {
	Appeals []AppealResponse `json:"appeals"`
}

// AppealFiled is the answer to POST /me/appeals: the appeal and the
// colour after it (an appeal the evidence decides is granted at once).
type AppealFiled struct {
	Appeal AppealResponse `json:"appeal"`
	Status StatusView     `json:"status"`
}

// DecisionRequest is POST /admin/appeals/{id}/decision.
type DecisionRequest struct {
	Decision string     `json:"decision" doc:"granted or rejected"`
	Note     string     `json:"note,omitempty"`
	Until    *timeField `json:"until,omitempty" doc:"how long a grant holds"`
}

// AppealDecided is the decided appeal.
type AppealDecided struct {
	Appeal AppealResponse `json:"appeal"`
}

// AppealReview is GET /admin/appeals/{id}/review: what a reviewer sees
// before deciding, so that a grant clears what they meant and no more.
type AppealReview struct {
	Appeal  AppealResponse `json:"appeal"`
	Named   RuleMatch      `json:"named" doc:"the decision appealed against"`
	Current StatusView     `json:"current" doc:"the person's decision now"`
	Changed bool           `json:"changed" doc:"the decision now is not the one appealed against"`
	Since   []StoredFact   `json:"since" doc:"facts recorded since the appeal was filed, newest first"`
	After   RuleMatch      `json:"after" doc:"the decision a grant recorded now would leave"`
	Clears  []RuleMatch    `json:"clears" doc:"rules matching now that a grant would clear"`
	Keeps   []RuleMatch    `json:"keeps" doc:"rules a grant would not clear"`
}

// RuleMatch is a rule that decides, or would decide, a colour.
type RuleMatch struct {
	RuleID string `json:"rule_id"`
	Color  Color  `json:"color"`
	Reason Text   `json:"reason"`
	Later  bool   `json:"later,omitempty" doc:"in keeps: set off by facts recorded since the appeal was filed"`
}

func appealReview(rv *status.Review) AppealReview {
	m := func(x rules.Match) RuleMatch {
		return RuleMatch{RuleID: x.RuleID, Color: color(x.Color), Reason: text(x.Reason)}
	}
	out := AppealReview{Appeal: appealResponse(rv.Appeal), Named: m(rv.Named), Current: viewStatus(rv.Current, true),
		Changed: rv.Changed(), Since: storedFacts(rv.Since), Clears: []RuleMatch{}, Keeps: []RuleMatch{},
		After: m(rules.Match{RuleID: rv.After.RuleID, Color: rv.After.Color, Reason: rv.After.Reason})}
	for _, c := range rv.Clears {
		out.Clears = append(out.Clears, m(c))
	}
	for _, k := range rv.Keeps {
		x := m(k.Match)
		x.Later = k.Later
		out.Keeps = append(out.Keeps, x)
	}
	return out
}

package fact

import "slices"

// Text is a label or description in the two languages the product speaks.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// AttrType is how an attribute's value is written in JSON.
type AttrType string

// Attribute types. Numbers arrive from JSON as float64, so "int" accepts any
// number without a fractional part; "time" accepts an RFC 3339 string or a
// time.Time.
const (
	TypeString   AttrType = "string"
	TypeInt      AttrType = "int"
	TypeNumber   AttrType = "number"
	TypeBool     AttrType = "bool"
	TypeEnum     AttrType = "enum"      // one string out of Values
	TypeEnumList AttrType = "enum_list" // a list of distinct strings out of Values
	TypeTime     AttrType = "time"
)

// Format constrains a string attribute beyond its length.
type Format string

// Formats.
const (
	FormatRegion          Format = "region"            // GB/T 2260 code, 6 digits
	FormatRegionOrCountry Format = "region_or_country" // 6 digits, or GB/T 2659 alpha-3 (CHN, USA)
)

// UntilPolicy says whether a kind describes a period.
type UntilPolicy string

// Until policies. Instantaneous kinds (a test, a purchase) refuse an until so
// that nobody believes it means something; periods that must end (an appeal,
// an isolation order) require one.
const (
	UntilNone     UntilPolicy = "none"
	UntilOptional UntilPolicy = "optional"
	UntilRequired UntilPolicy = "required"
)

// AttrInfo describes one attribute of a kind.
type AttrInfo struct {
	Name     string   `json:"name"`
	Type     AttrType `json:"type"`
	Required bool     `json:"required"`
	// Values are the allowed strings of an enum or enum_list.
	Values []string `json:"values,omitempty"`
	// OneOf restricts an int to a set (tube capacities).
	OneOf []int64 `json:"one_of,omitempty"`
	// Min and Max bound numbers (inclusive) and the length of strings and lists.
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Format Format   `json:"format,omitempty"`
	// Default is what an absent optional attribute means; rules see it.
	Default any    `json:"default,omitempty"`
	Label   Text   `json:"label"`
	Doc     string `json:"doc"`
}

// KindInfo describes a kind of fact for validation, documentation and the console.
type KindInfo struct {
	Kind  string      `json:"kind"`
	Label Text        `json:"label"`
	Doc   string      `json:"doc"`
	At    string      `json:"at"` // what At means for this kind
	Until UntilPolicy `json:"until"`
	Attrs []AttrInfo  `json:"attrs"`
	// Scheduled kinds are orders whose at may lie ahead (an isolation
	// ordered to start on Monday); every other kind is something that
	// happened, whose at is not later than now.
	Scheduled bool `json:"scheduled,omitempty"`

	// check validates relations between attributes once each is valid alone.
	check func(attrs map[string]any) error
}

func (k *KindInfo) attr(name string) *AttrInfo {
	for i := range k.Attrs {
		if k.Attrs[i].Name == name {
			return &k.Attrs[i]
		}
	}
	return nil
}

// Kinds lists the known kinds in a stable order. The result is a copy.
func Kinds() []KindInfo {
	out := make([]KindInfo, len(kinds))
	for i, k := range kinds {
		k.Attrs = slices.Clone(k.Attrs)
		k.check = nil
		out[i] = k
	}
	return out
}

// Lookup returns the description of one kind.
func Lookup(kind string) (KindInfo, bool) {
	k := registry[kind]
	if k == nil {
		return KindInfo{}, false
	}
	c := *k
	c.Attrs = slices.Clone(c.Attrs)
	c.check = nil
	return c, true
}

// Kind names, for code that appends facts.
const (
	CaseConfirmed    = "case.confirmed"
	CaseAsymptomatic = "case.asymptomatic"
	CaseReleased     = "case.released"
	ContactClose     = "contact.close"
	ContactSecondary = "contact.secondary"
	ContactCompanion = "contact.companion"
	NATResult        = "nat.result"
	VaccineDose      = "vaccine.dose"
	ClinicFever      = "clinic.fever"
	PharmacyPurchase = "pharmacy.purchase"
	Isolation        = "isolation"
	Declaration      = "declaration"
	Temperature      = "temperature"
	ArrivalInbound   = "arrival.inbound"
	VisitRiskArea    = "visit.risk_area"
	AppealGranted    = "appeal.granted"

	ColdChainExposure = "cold_chain.exposure"
)

// NAT results.
const (
	ResultNegative      = "negative"
	ResultPositive      = "positive"
	ResultMixedPositive = "mixed_positive"
	ResultInvalid       = "invalid"
)

// FeverCelsius is the threshold every system used for "fever" at a
// checkpoint and in declarations.
const FeverCelsius = 37.3

// Symptom is one entry of the declaration vocabulary.
type Symptom struct {
	Code  string `json:"code"`
	Label Text   `json:"label"`
}

// Symptoms is the fixed vocabulary of declared symptoms: the eleven that
// Beijing asked pharmacies and clinics to report, which cover the lists the
// declaration forms used.
var Symptoms = []Symptom{
	{"fever", Text{"发热", "fever"}},
	{"dry_cough", Text{"干咳", "dry cough"}},
	{"fatigue", Text{"乏力", "fatigue"}},
	{"sore_throat", Text{"咽痛", "sore throat"}},
	{"loss_of_smell_taste", Text{"嗅觉味觉减退", "loss of smell or taste"}},
	{"nasal_congestion", Text{"鼻塞", "nasal congestion"}},
	{"runny_nose", Text{"流涕", "runny nose"}},
	{"conjunctivitis", Text{"结膜炎", "conjunctivitis"}},
	{"myalgia", Text{"肌痛", "muscle pain"}},
	{"diarrhea", Text{"腹泻", "diarrhoea"}},
	{"shortness_of_breath", Text{"气促", "shortness of breath"}},
}

func symptomCodes() []string {
	out := make([]string, len(Symptoms))
	for i, s := range Symptoms {
		out[i] = s.Code
	}
	return out
}

func f64(v float64) *float64 { return &v }

// Reusable attribute definitions.
var (
	attrCaseID = AttrInfo{Name: "case_id", Type: TypeString, Max: f64(64),
		Label: Text{"病例编号", "case number"},
		Doc:   "The number the disease-control system gave the case."}
	attrCasePerson = AttrInfo{Name: "case_person", Type: TypeString, Max: f64(64),
		Label: Text{"关联病例", "case person"},
		Doc:   "Person id of the case (or contact) the exposure is traced to."}
	attrVenue = AttrInfo{Name: "venue", Type: TypeString, Max: f64(64),
		Label: Text{"场所", "venue"},
		Doc:   "Venue id where both were present."}
	attrGrid = AttrInfo{Name: "grid", Type: TypeString, Max: f64(64),
		Label: Text{"网格", "grid cell"},
		Doc:   "Grid cell id (Chengdu used 800 m x 800 m cells) when the overlap came from location data rather than a venue."}
	attrCaseAt = AttrInfo{Name: "case_at", Type: TypeTime,
		Label: Text{"病例到访时间", "case's time there"},
		Doc:   "When the case was there."}
	attrPersonAt = AttrInfo{Name: "person_at", Type: TypeTime,
		Label: Text{"本人到访时间", "person's time there"},
		Doc:   "When this person was there."}
	attrOverlap = AttrInfo{Name: "overlap_minutes", Type: TypeInt, Min: f64(0), Max: f64(20160),
		Label: Text{"交集时长（分钟）", "overlap (minutes)"},
		Doc:   "How long the two were there together; 0 when they were there within the venue's window but not at once."}
	attrRun = AttrInfo{Name: "tracing_run", Type: TypeString, Max: f64(64),
		Label: Text{"流调批次", "tracing run"},
		Doc:   "Id of the tracing run that found the link."}
)

func req(a AttrInfo) AttrInfo { a.Required = true; return a }

var kinds = []KindInfo{
	{
		Kind: CaseConfirmed, Label: Text{"确诊病例", "confirmed case"}, Until: UntilNone,
		Doc: "The person was diagnosed with COVID-19.",
		At:  "time of diagnosis",
		Attrs: []AttrInfo{
			attrCaseID,
			{Name: "severity", Type: TypeEnum, Values: []string{"mild", "moderate", "severe", "critical"},
				Label: Text{"临床分型", "clinical type"},
				Doc:   "Clinical classification: mild (轻型), moderate (普通型), severe (重型), critical (危重型)."},
			{Name: "hospital", Type: TypeString, Max: f64(128), Label: Text{"收治机构", "hospital"},
				Doc: "Where the case is treated."},
		},
	},
	{
		Kind: CaseAsymptomatic, Label: Text{"无症状感染者", "asymptomatic infection"}, Until: UntilNone,
		Doc: "The person tested positive without symptoms.",
		At:  "time of report",
		Attrs: []AttrInfo{
			attrCaseID,
			{Name: "hospital", Type: TypeString, Max: f64(128), Label: Text{"收治机构", "hospital or site"},
				Doc: "Where the person is isolated or treated."},
		},
	},
	{
		Kind: CaseReleased, Label: Text{"解除隔离/解封", "released"}, Until: UntilNone,
		Doc: "The person left isolation, hospital or a sealed area. It ends the red of a case, an initial-screen positive and an isolation that started before it.",
		At:  "time of release",
		Attrs: []AttrInfo{
			req(AttrInfo{Name: "reason", Type: TypeEnum,
				Values: []string{"recovered", "isolation_ended", "area_unsealed", "excluded"},
				Label:  Text{"解除原因", "reason"},
				Doc:    "recovered (治愈出院), isolation_ended (隔离期满), area_unsealed (封控区解封), excluded (排除感染)."}),
			attrCaseID,
		},
	},
	{
		Kind: ContactClose, Label: Text{"密切接触者", "close contact"}, Until: UntilNone,
		Doc: "Epidemiological investigation found the person a close contact of a case.",
		At:  "time of the last exposure",
		Attrs: []AttrInfo{
			attrCasePerson, attrVenue, attrCaseAt, attrPersonAt, attrOverlap, attrRun,
		},
	},
	{
		Kind: ContactSecondary, Label: Text{"次密切接触者", "secondary contact"}, Until: UntilNone,
		Doc: "A contact of a close contact.",
		At:  "time of the last exposure to the close contact",
		Attrs: []AttrInfo{
			{Name: "via_person", Type: TypeString, Max: f64(64), Label: Text{"关联密接", "via close contact"},
				Doc: "Person id of the close contact through whom the person is linked."},
			attrCasePerson, attrVenue, attrCaseAt, attrPersonAt, attrOverlap, attrRun,
		},
	},
	{
		Kind: ContactCompanion, Label: Text{"时空伴随者", "spatiotemporal companion"}, Until: UntilNone,
		Doc: "A tracing run found the person at the same venue (or grid cell) as a case within the overlap window.",
		At:  "the person's time at the shared place",
		Attrs: []AttrInfo{
			req(attrCasePerson), attrVenue, attrGrid, req(attrCaseAt), req(attrPersonAt), attrOverlap, attrRun,
		},
		check: func(attrs map[string]any) error {
			if attrs["venue"] == nil && attrs["grid"] == nil {
				return conflict(ContactCompanion, "venue", "a companion needs the shared place: venue or grid")
			}
			return nil
		},
	},
	{
		Kind: NATResult, Label: Text{"核酸检测结果", "NAT result"}, Until: UntilNone,
		Doc: "A nucleic-acid test result. A negative mixed tube is negative for everyone in it; a positive mixed tube is mixed_positive for everyone in it; positive is a single-tube positive.",
		At:  "sampling time (results are compared by when the swab was taken, not when the lab reported)",
		Attrs: []AttrInfo{
			req(AttrInfo{Name: "result", Type: TypeEnum,
				Values: []string{ResultNegative, ResultPositive, ResultMixedPositive, ResultInvalid},
				Label:  Text{"结果", "result"},
				Doc:    "negative (阴性), positive (单管阳性), mixed_positive (混管阳性), invalid (无效, resample)."}),
			{Name: "tube", Type: TypeString, Max: f64(64), Label: Text{"试管条码", "tube barcode"},
				Doc: "Barcode of the tube the swab went into."},
			{Name: "tube_capacity", Type: TypeInt, OneOf: []int64{1, 5, 10, 20}, Default: int64(1),
				Label: Text{"混采人数", "tube capacity"},
				Doc:   "Swabs per tube: 1 (single tube, 单管), 5, 10 or 20 (mixed). Absent means a single tube."},
			{Name: "site", Type: TypeString, Max: f64(64), Label: Text{"采样点", "sampling site"},
				Doc: "Sampling site id."},
			{Name: "lab", Type: TypeString, Max: f64(128), Label: Text{"检测机构", "lab"},
				Doc: "Lab that tested the tube."},
			{Name: "correction", Type: TypeBool, Default: false, Label: Text{"更正", "correction"},
				Doc: "The lab corrected the tube's result: this fact replaces every nat.result of the same tube recorded before it, which the rules no longer see. Needs tube."},
		},
		check: func(attrs map[string]any) error {
			if attrs["correction"] == true && attrs["tube"] == nil {
				return conflict(NATResult, "correction", "a correction must name the tube whose result it corrects")
			}
			capacity := int64(1)
			if v, ok := attrs["tube_capacity"]; ok {
				capacity, _ = toInt(v)
			}
			switch attrs["result"] {
			case ResultMixedPositive:
				if capacity == 1 {
					return conflict(NATResult, "tube_capacity", "mixed_positive needs a mixed tube (tube_capacity 5, 10 or 20); a single tube is positive")
				}
			case ResultPositive:
				if capacity != 1 {
					return conflict(NATResult, "tube_capacity", "a positive mixed tube is recorded as mixed_positive for everyone in it")
				}
			}
			return nil
		},
	},
	{
		Kind: VaccineDose, Label: Text{"疫苗接种", "vaccine dose"}, Until: UntilNone,
		Doc: "A COVID-19 vaccine dose. Recorded for the resident's page; the default rules do not use it.",
		At:  "time of vaccination",
		Attrs: []AttrInfo{
			req(AttrInfo{Name: "dose", Type: TypeInt, Min: f64(1), Max: f64(10),
				Label: Text{"剂次", "dose number"}, Doc: "1 for the first dose, 3 for the first booster."}),
			{Name: "product", Type: TypeString, Max: f64(128), Label: Text{"疫苗产品", "product"},
				Doc: "Vaccine product name."},
			{Name: "lot", Type: TypeString, Max: f64(64), Label: Text{"批号", "lot"}, Doc: "Lot number."},
			{Name: "site", Type: TypeString, Max: f64(128), Label: Text{"接种单位", "vaccination site"},
				Doc: "Where the dose was given."},
		},
	},
	{
		Kind: ClinicFever, Label: Text{"发热门诊就诊", "fever-clinic visit"}, Until: UntilNone,
		Doc: "The person visited a fever clinic (reported by the hospital's HIS).",
		At:  "time of the visit",
		Attrs: []AttrInfo{
			req(AttrInfo{Name: "clinic", Type: TypeString, Max: f64(128), Label: Text{"就诊机构", "clinic"},
				Doc: "Hospital or clinic id."}),
			{Name: "temperature", Type: TypeNumber, Min: f64(34), Max: f64(43), Label: Text{"体温（℃）", "temperature (°C)"},
				Doc: "Temperature measured at the visit."},
			{Name: "symptoms", Type: TypeEnumList, Values: symptomCodes(), Max: f64(11), Label: Text{"症状", "symptoms"},
				Doc: "Symptoms recorded, from the declaration vocabulary."},
		},
	},
	{
		Kind: PharmacyPurchase, Label: Text{"购买监测药品", "watched-drug purchase"}, Until: UntilNone,
		Doc: "The person bought a watched drug; pharmacies registered buyers by real name.",
		At:  "time of purchase",
		Attrs: []AttrInfo{
			req(AttrInfo{Name: "drug_class", Type: TypeString, Max: f64(32),
				Label: Text{"药品类别", "drug class"},
				Doc: "The code of a watched drug class, which the health authority edits (seeded: antipyretic 退热, " +
					"antiviral 抗病毒, antibiotic 抗菌, cough 止咳; records made before the classes were data say fever for antipyretics)."}),
			{Name: "drug", Type: TypeString, Max: f64(128), Label: Text{"药品名称", "drug"}, Doc: "Product name."},
			{Name: "pharmacy", Type: TypeString, Max: f64(128), Label: Text{"药店", "pharmacy"}, Doc: "Pharmacy id (the gateway's organisation id)."},
		},
	},
	{
		Kind: Isolation, Label: Text{"隔离管控", "isolation"}, Until: UntilRequired, Scheduled: true,
		Doc: "An isolation order. Orders always had a planned end; an extension is a new fact, and case.released ends one early.",
		At:  "start of isolation; until is its planned end",
		Attrs: []AttrInfo{
			req(AttrInfo{Name: "mode", Type: TypeEnum, Values: []string{"home", "centralized"},
				Label: Text{"隔离方式", "mode"}, Doc: "home (居家隔离) or centralized (集中隔离)."}),
			{Name: "reason", Type: TypeEnum, Values: []string{"case", "close_contact", "secondary_contact", "inbound", "risk_area", "other"},
				Label: Text{"隔离原因", "reason"}, Doc: "Why the person is isolated."},
			{Name: "site", Type: TypeString, Max: f64(128), Label: Text{"隔离点", "site"},
				Doc: "Isolation site (hotel) id for centralized isolation."},
		},
	},
	{
		Kind: Declaration, Label: Text{"健康申报", "health declaration"}, Until: UntilNone,
		Doc: "The resident's daily declaration (打卡). It is abnormal when the temperature is 37.3 °C or more or any symptom is declared; a declared exposure is recorded separately because it gives red.",
		At:  "time of the declaration",
		Attrs: []AttrInfo{
			{Name: "temperature", Type: TypeNumber, Min: f64(34), Max: f64(43), Label: Text{"体温（℃）", "temperature (°C)"},
				Doc: "Self-measured temperature, °C, 34 to 43."},
			{Name: "symptoms", Type: TypeEnumList, Values: symptomCodes(), Max: f64(11), Default: []string{},
				Label: Text{"症状", "symptoms"}, Doc: "Declared symptoms; empty means none."},
			{Name: "exposure", Type: TypeBool, Default: false, Label: Text{"接触史", "exposure"},
				Doc: "The resident declares contact with a case, or a stay in a risk area, in the last 14 days."},
		},
	},
	{
		Kind: Temperature, Label: Text{"卡口体温异常", "checkpoint fever"}, Until: UntilNone,
		Doc: "A checkpoint measured 37.3 °C or more when scanning the code (扫码+体温). Normal readings are not recorded.",
		At:  "time of the reading",
		Attrs: []AttrInfo{
			req(AttrInfo{Name: "celsius", Type: TypeNumber, Min: f64(FeverCelsius), Max: f64(43),
				Label: Text{"体温（℃）", "temperature (°C)"}, Doc: "The reading, 37.3 to 43 °C."}),
			req(AttrInfo{Name: "checkpoint", Type: TypeString, Max: f64(64), Label: Text{"卡口", "checkpoint"},
				Doc: "Checkpoint id."}),
		},
	},
	{
		Kind: ArrivalInbound, Label: Text{"来（返）人员", "arrival"}, Until: UntilNone,
		Doc: "The person arrived in the region from outside it, from another region or from abroad.",
		At:  "time of arrival",
		Attrs: []AttrInfo{
			req(AttrInfo{Name: "origin", Type: TypeString, Format: FormatRegionOrCountry, Label: Text{"出发地", "origin"},
				Doc: "GB/T 2260 region code (6 digits) or, from abroad, GB/T 2659 alpha-3 country code."}),
			{Name: "origin_risk", Type: TypeEnum, Values: []string{"low", "medium", "high"},
				Label: Text{"出发地风险等级", "origin risk level"},
				Doc:   "Risk level of the origin when the person left it: medium or high means the origin city had medium/high-risk areas. Absent when unknown."},
			{Name: "international", Type: TypeBool, Default: false, Label: Text{"入境", "from abroad"},
				Doc: "The person entered the country."},
			{Name: "transport", Type: TypeEnum, Values: []string{"air", "rail", "road", "water", "other"},
				Label: Text{"交通方式", "transport"}, Doc: "How the person arrived."},
			{Name: "port", Type: TypeString, Max: f64(128), Label: Text{"抵达口岸/站点", "port or station"},
				Doc: "Airport, station or road checkpoint of arrival."},
			{Name: "border_entry", Type: TypeBool, Default: false, Label: Text{"口岸入境登记", "registered at the border"},
				Doc: "Border staff registered the person at the port of entry with a verified foreign health credential; the inbound quarantine (14 days central, then 7 at home) runs from this arrival."},
			{Name: "credential", Type: TypeEnum, Values: []string{"eu_dcc", "shc"}, Label: Text{"境外健康凭证", "foreign health credential"},
				Doc: "The format of the verified credential the traveller showed: eu_dcc (EU Digital COVID Certificate) or shc (SMART Health Card)."},
			{Name: "credential_kind", Type: TypeEnum, Values: []string{"vaccination", "test", "recovery"}, Label: Text{"凭证类型", "credential kind"},
				Doc: "What the credential certifies."},
		},
	},
	{
		Kind: VisitRiskArea, Label: Text{"到访中高风险地区", "risk-area visit"}, Until: UntilOptional,
		Doc: "The person stayed in a medium- or high-risk area (trip data, or matched against the published risk areas).",
		At:  "start of the stay; until is when the person left (absent when unknown)",
		Attrs: []AttrInfo{
			req(AttrInfo{Name: "region", Type: TypeString, Format: FormatRegion, Label: Text{"地区", "region"},
				Doc: "GB/T 2260 code of the region that contains the risk area."}),
			req(AttrInfo{Name: "level", Type: TypeEnum, Values: []string{"medium", "high"}, Label: Text{"风险等级", "level"},
				Doc: "medium (中风险) or high (高风险)."}),
			{Name: "stay_hours", Type: TypeNumber, Min: f64(0), Max: f64(24 * 14), Label: Text{"停留时长（小时）", "stay (hours)"},
				Doc: "Length of stay; the trip card counted stays over 4 hours."},
		},
	},
	{
		Kind: AppealGranted, Label: Text{"申诉通过", "appeal granted"}, Until: UntilRequired,
		Doc: "An operator granted the person's appeal. Until it expires, the rule the appeal named does not count the facts recorded before the appeal was filed.",
		At:  "when the grant takes effect; until is when it expires",
		Attrs: []AttrInfo{
			req(AttrInfo{Name: "appeal", Type: TypeString, Max: f64(64), Label: Text{"申诉编号", "appeal id"},
				Doc: "Id of the appeal that was granted."}),
			{Name: "rule", Type: TypeString, Max: f64(64), Label: Text{"申诉针对的规则", "rule appealed"},
				Doc: "The rule that decided the colour appealed against; absent: every rule."},
			{Name: "filed_at", Type: TypeTime, Label: Text{"申诉时间", "filed at"},
				Doc: "When the appeal was filed: facts recorded from then on count as if there were no grant; absent: the grant's recording time."},
			{Name: "note", Type: TypeString, Max: f64(1000), Label: Text{"审核意见", "note"},
				Doc: "The operator's note, shown to the resident."},
		},
	},
	{
		Kind: ColdChainExposure, Label: Text{"冷链食品接触", "cold-chain exposure"}, Until: UntilNone,
		Doc: "The person handled a batch of cold-chain food (scanned their code with the batch code) that a nucleic-acid inspection later found positive.",
		At:  "when the positive inspection was recorded (the exposure became known); handled_at is when the person handled the batch",
		Attrs: []AttrInfo{
			req(AttrInfo{Name: "batch", Type: TypeString, Max: f64(64), Label: Text{"批次", "batch"},
				Doc: "Id of the batch."}),
			{Name: "product", Type: TypeString, Max: f64(100), Label: Text{"品名", "product"},
				Doc: "What the batch is (冻带鱼, frozen pork ...)."},
			req(AttrInfo{Name: "holder", Type: TypeString, Max: f64(64), Label: Text{"经营单位", "holder"},
				Doc: "Id of the organisation (the gateway's) where the person handled the batch."}),
			req(AttrInfo{Name: "handled_at", Type: TypeTime, Label: Text{"接触时间", "handled at"},
				Doc: "When the person last handled the batch there."}),
			{Name: "inspection", Type: TypeString, Max: f64(64), Label: Text{"阳性检测", "positive inspection"},
				Doc: "Id of the positive inspection."},
			{Name: "run", Type: TypeString, Max: f64(64), Label: Text{"追溯批次", "trace run"},
				Doc: "Id of the trace run that found the person."},
		},
	},
}

var registry = func() map[string]*KindInfo {
	m := make(map[string]*KindInfo, len(kinds))
	for i := range kinds {
		m[kinds[i].Kind] = &kinds[i]
	}
	return m
}()

package org

import (
	"slices"
	"strings"

	"github.com/healthcode/healthcode/internal/fact"
)

// Gateway scopes: what an organisation's key may call. A unit account may
// do what its organisation's kind allows.
const (
	ScopeScan             = "scan"              // POST /gateway/v1/scan with a code
	ScopeScanID           = "scan_id"           // the same with an ID number typed at a desk (audited, rate limited)
	ScopePharmacyPurchase = "pharmacy.purchase" // register purchases of watched drugs
	ScopeClinicFever      = "clinic.fever"      // register fever-clinic visits and close their follow-up
	ScopeHospitalIdentity = "hospital.identity" // receive a scanned patient's identity, once per scan
	ScopeHospitalQueue    = "hospital.queue"    // give a scanned patient a queue number
	ScopeRideCheck        = "ride.check"        // check drivers and passengers by the handles they shared
	ScopeSlots            = "booking.slots"     // open time slots residents book, and read their bookings and attendance
	ScopeEntry            = "booking.entry"     // admit a booked visitor by scanning their code against the booking
	ScopeHallQueue        = "hall.queue"        // give queue tickets by the code, call and finish them
	ScopeHallTerminal     = "hall.terminal"     // sign a resident in at a hall terminal (they consent on their phone)

	ScopeColdChainBatch   = "coldchain.batch"   // register imported batches and print their labels
	ScopeColdChainMove    = "coldchain.move"    // receive, pass on and sell batches by their batch code
	ScopeColdChainHandler = "coldchain.handler" // record the workers who handle a batch (their code with the batch code)
	ScopeColdChainInspect = "coldchain.inspect" // record nucleic-acid tests of goods and packaging and disinfections
	ScopeColdChainTasks   = "coldchain.tasks"   // read and close the tasks a positive inspection opened (seal, disinfect)

	ScopeEmployerStaff = "employer.staff" // keep the staff roster, admit staff at the gate by their code, read attendance
	ScopeSchoolCheck   = "school.check"   // keep classes and pupils, admit pupils at the gate, take and read morning and noon checks
	ScopeTripStays     = "trip.stays"     // a carrier's stays of phones in cities, for the trip card
	ScopeTransport     = "transport"      // register vehicles (each with a code passengers scan to ride), check at stations, read rides
)

// ScopeInfo is a scope with its names and the kinds that may hold it.
type ScopeInfo struct {
	Scope string
	Label fact.Text
	Kinds []Kind // nil: every kind
}

// Scopes lists the gateway's scopes in the order forms show them.
var Scopes = []ScopeInfo{
	{ScopeScan, fact.Text{ZH: "扫码核验", EN: "scan codes"}, nil},
	{ScopeScanID, fact.Text{ZH: "证件号核验（留痕、限速）", EN: "look up by ID number (audited, rate limited)"}, nil},
	{ScopePharmacyPurchase, fact.Text{ZH: "登记购药", EN: "register drug purchases"}, []Kind{Pharmacy}},
	{ScopeClinicFever, fact.Text{ZH: "登记发热门诊就诊", EN: "register fever-clinic visits"}, []Kind{FeverClinic, Hospital}},
	{ScopeHospitalIdentity, fact.Text{ZH: "建卡挂号获取身份信息（留痕、每次扫码一次）", EN: "receive a patient's identity (audited, once per scan)"}, []Kind{Hospital, FeverClinic}},
	{ScopeHospitalQueue, fact.Text{ZH: "挂号排队", EN: "give queue numbers"}, []Kind{Hospital}},
	{ScopeRideCheck, fact.Text{ZH: "司机乘客健康码核验", EN: "check drivers and passengers"}, []Kind{RideHailing, Taxi}},
	{ScopeSlots, fact.Text{ZH: "预约时段与到访统计", EN: "booking slots and attendance"}, []Kind{ScenicSpot, ServiceHall}},
	{ScopeEntry, fact.Text{ZH: "扫码核验预约入园", EN: "admit booked visitors by their code"}, []Kind{ScenicSpot}},
	{ScopeHallQueue, fact.Text{ZH: "亮码取号排队", EN: "queue tickets by the code"}, []Kind{ServiceHall}},
	{ScopeHallTerminal, fact.Text{ZH: "扫码登录办事终端（本人手机确认，留痕）", EN: "sign residents in at a terminal (they consent; audited)"}, []Kind{ServiceHall}},
	{ScopeColdChainBatch, fact.Text{ZH: "登记进口冷链食品批次", EN: "register imported batches"}, []Kind{Importer}},
	{ScopeColdChainMove, fact.Text{ZH: "冷链食品入库、转运与销售", EN: "receive, pass on and sell batches"}, ColdChainHolders},
	{ScopeColdChainHandler, fact.Text{ZH: "登记冷链从业人员接触批次", EN: "record workers handling batches"}, ColdChainHolders},
	{ScopeColdChainInspect, fact.Text{ZH: "登记冷链食品核酸检测与消毒", EN: "record tests and disinfections of batches"}, ColdChainSamplers},
	{ScopeColdChainTasks, fact.Text{ZH: "处置冷链阳性任务（封存、消杀）", EN: "close cold-chain tasks (seal, disinfect)"}, ColdChainHolders},
	{ScopeEmployerStaff, fact.Text{ZH: "员工花名册与凭码上岗考勤", EN: "staff roster and attendance at the gate"}, []Kind{Employer}},
	{ScopeSchoolCheck, fact.Text{ZH: "班级学生、晨午检与入校核验", EN: "classes, pupils, morning and noon checks, entry"}, []Kind{School}},
	{ScopeTripStays, fact.Text{ZH: "报送通信行程数据", EN: "send trip stays"}, []Kind{Carrier}},
	{ScopeTransport, fact.Text{ZH: "车辆乘车码、场站验码测温", EN: "vehicle codes, station checks"}, []Kind{Bus, Taxi}},
}

func scopeInfo(s string) (ScopeInfo, bool) {
	for _, sc := range Scopes {
		if sc.Scope == s {
			return sc, true
		}
	}
	return ScopeInfo{}, false
}

// Allows reports whether an organisation of the kind may hold the scope.
func (k Kind) Allows(scope string) bool {
	sc, ok := scopeInfo(scope)
	return ok && (sc.Kinds == nil || slices.Contains(sc.Kinds, k))
}

// ScopesFor lists the scopes an organisation of the kind may hold.
func ScopesFor(k Kind) []ScopeInfo {
	var out []ScopeInfo
	for _, sc := range Scopes {
		if k.Allows(sc.Scope) {
			out = append(out, sc)
		}
	}
	return out
}

// parseScopes checks a key's scopes for an organisation of the kind.
func parseScopes(k Kind, in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, ErrScopesMissing
	}
	var out []string
	for _, s := range in {
		if _, ok := scopeInfo(s); !ok {
			names := make([]string, len(Scopes))
			for i, sc := range Scopes {
				names[i] = sc.Scope
			}
			return nil, ErrScopeUnknown.Withf("unknown scope %q (want one of %s)", s, strings.Join(names, ", "))
		}
		if !k.Allows(s) {
			return nil, ErrScopeNotForKind.Withf("an organisation of kind %s may not hold the scope %q", k, s)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

package web

// The strings of the console's daily-life pages (employers, schools,
// scenic spots, service halls, transport). They join the catalogue at
// start; a key defined twice is a bug.
var dailyConsoleMessages = map[string][2]string{
	"nav.employers": {"用人单位", "Employers"},
	"nav.schools":   {"学校晨午检", "Schools"},
	"nav.scenic":    {"景区预约", "Scenic spots"},
	"nav.halls":     {"政务大厅", "Service halls"},
	"nav.transport": {"公交出租", "Transport"},

	"life.org_figures":   {"%s 的数据", "Figures of %s"},
	"life.overview_link": {"辖区总览", "Overview of the region"},
	"life.figures_only":  {"只显示数字，不显示个人。", "Figures only: no person is shown."},
	"life.none":          {"辖区内没有此类单位。", "No organisation of this kind in your region."},

	"life.employers_lead": {"辖区内用人单位当天的凭码上岗：花名册人数、出勤、拒绝上岗（按人）和未到；按原因统计的是被拒绝的扫码次数。", "The employers of your region on the day at their gates: staff on the roster, present, refused (persons) and absent; by reason counts the refused scans."},
	"life.employer":       {"用人单位", "Employer"},
	"life.staff":          {"花名册", "Staff"},
	"life.linked":         {"已关联", "Linked"},
	"life.refusals_of":    {"拒绝·%s", "Refused: %s"},

	"life.reason.color_red":    {"红码", "red code"},
	"life.reason.color_yellow": {"黄码", "yellow code"},
	"life.reason.fever":        {"发热", "fever"},

	"life.schools_lead":     {"辖区内学校当天的晨午检：学生人数、已报告与未报告（缺报即缺勤待查）、发热与有症状的报告、入校核验。", "The schools of your region on the day: pupils, morning and noon checks reported and missing (absentees to follow up), reports with a fever or symptoms, entries at the gate."},
	"life.school":           {"学校", "School"},
	"life.classes":          {"班级", "Classes"},
	"life.pupils":           {"学生", "Pupils"},
	"life.morning":          {"晨检已报", "Morning checks"},
	"life.morning_absent":   {"晨检未报", "No morning check"},
	"life.noon":             {"午检已报", "Noon checks"},
	"life.noon_absent":      {"午检未报", "No noon check"},
	"life.fever":            {"发热报告", "Fever reports"},
	"life.symptomatic":      {"有症状报告", "Reports with symptoms"},
	"life.entries_admitted": {"准予入校", "Entries admitted"},
	"life.entries_refused":  {"拒绝入校", "Entries refused"},

	"life.scenic_lead": {"辖区内景区当天的分时预约：时段、容量、已预约（含已入园）、已入园与已取消。", "The scenic spots of your region on the day: time slots, capacity, booked (entered included), entered and cancelled."},
	"life.scenic_spot": {"景区", "Scenic spot"},
	"life.slots":       {"时段", "Slots"},
	"life.capacity":    {"容量", "Capacity"},
	"life.booked":      {"已预约", "Booked"},
	"life.entered":     {"已入园", "Entered"},
	"life.cancelled":   {"已取消", "Cancelled"},

	"life.halls_lead":   {"辖区内政务服务大厅当天的亮码取号：取号数、绿码、黄码转专窗、预约到场、外地居民、等候与办结、评价与网上预约。", "The service halls of your region on the day: tickets, green codes, yellow codes routed to the designated window, booked arrivals, other regions' residents, waiting and done, ratings and online bookings."},
	"life.halls_red":    {"红码和按大厅规定拒绝的黄码不出号，也不留记录，因此不在表中。", "Red codes, and yellow codes a hall refuses, get no ticket and leave no record, so they are not in the table."},
	"life.hall":         {"政务大厅", "Service hall"},
	"life.tickets":      {"取号", "Tickets"},
	"life.green":        {"绿码", "Green"},
	"life.routed":       {"黄码转专窗", "Yellow, routed"},
	"life.from_booking": {"预约到场", "Booked arrivals"},
	"life.foreign":      {"外地居民", "Other regions"},
	"life.waiting":      {"等候中", "Waiting"},
	"life.done":         {"已办结", "Done"},
	"life.rating":       {"平均评分", "Mean rating"},
	"life.online":       {"网上预约", "Online bookings"},

	"life.transport_lead": {"辖区内公交公司和出租车公司当天的扫码乘车：车辆、在岗司机、乘车人次与被拒绝的乘车。", "The bus operators and taxi companies of your region on the day: vehicles, drivers on duty, rides and refused rides."},
	"life.company":        {"公司", "Company"},
	"life.companies":      {"公司数", "Companies"},
	"life.vehicles":       {"车辆", "Vehicles"},
	"life.drivers":        {"在岗司机", "Drivers on duty"},
	"life.rides":          {"乘车人次", "Rides"},
	"life.ride_refused":   {"拒绝乘车", "Refused rides"},
}

func init() {
	for k, v := range dailyConsoleMessages {
		if _, dup := catalog[k]; dup {
			panic("web: message " + k + " defined twice")
		}
		catalog[k] = v
	}
}

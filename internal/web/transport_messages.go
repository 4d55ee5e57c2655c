package web

// The transport company's page.
var transportMessages = map[string][2]string{
	"unit.nav_transport":         {"车辆乘车码", "Vehicles"},
	"transport.lead":             {"每辆车一个乘车码：乘客扫码乘车即登记，流调按交通工具的时间窗查找同乘人员；单位只看到人数，看不到乘客。", "Each vehicle has its own code: passengers scan it to ride, a check-in that tracing reads with the vehicle window; the company sees counts, never passengers."},
	"transport.vehicles":         {"车辆", "Vehicles"},
	"transport.rides_today":      {"%s 乘车人次", "Rides on %s"},
	"transport.plate":            {"车牌号", "Plate"},
	"transport.route":            {"线路", "Route"},
	"transport.kind":             {"类型", "Kind"},
	"transport.rides":            {"今日乘车", "Rides today"},
	"transport.code":             {"乘车码", "Code"},
	"transport.print":            {"打印乘车码", "Print the code"},
	"transport.kind.bus":         {"公交车", "Bus"},
	"transport.kind.taxi":        {"出租车", "Taxi"},
	"transport.driver":           {"当班司机", "Driver on duty"},
	"transport.no_driver":        {"未登记", "None"},
	"transport.none":             {"尚未登记车辆。", "No vehicles yet."},
	"transport.add":              {"登记车辆", "Add a vehicle"},
	"transport.add_submit":       {"登记并生成乘车码", "Add and make its code"},
	"flash.vehicle_added":        {"已登记车辆 %s。", "Vehicle %s added."},
	"transport.station":          {"场站核验", "Station check"},
	"transport.station_lead":     {"进站时同时核验健康码和体温：绿码且体温正常准予进站；黄码、红码或体温 37.3℃ 及以上不得进站，并显示原因。", "At the station the code and the temperature are checked together: a green code with a normal temperature may enter; a yellow or red code, or 37.3 °C or more, may not, with the reason."},
	"transport.station_code":     {"健康码", "Health code"},
	"transport.station_temp":     {"体温（℃）", "Temperature (°C)"},
	"transport.station_check":    {"核验", "Check"},
	"transport.station_admitted": {"准予进站", "May enter"},
	"transport.station_refused":  {"不得进站", "May not enter"},
}

func init() {
	for k, v := range transportMessages {
		if _, dup := catalog[k]; dup {
			panic("web: message " + k + " defined twice")
		}
		catalog[k] = v
	}
}

package web

// The strings of grids, imports, persons by colour and the grid worker's
// visits. They join the catalogue at start.
var gridMessages = map[string][2]string{
	"nav.visits":    {"我的走访", "My visits"},
	"nav.by_colour": {"红黄码人员", "Red and yellow"},
	"nav.grids":     {"网格", "Grids"},
	"nav.imports":   {"数据导入", "Imports"},

	"import.kind":                 {"导入类型", "Kind"},
	"import.kind.residents":       {"户籍人口（按网格、户）", "Population (by grid and household)"},
	"import.kind.cases":           {"病例名单", "Case list"},
	"import.kind.contacts":        {"密接名单", "Close contacts"},
	"import.kind.arrivals":        {"来（返）人员名单", "Arrivals"},
	"import.source":               {"数据来源", "Source"},
	"import.source.default":       {"默认（人口为公安户籍，名单为卫健）", "Default (census for the population, health for lists)"},
	"import.source.census":        {"户籍人口", "Census"},
	"import.source.police":        {"公安", "Police"},
	"import.source.health":        {"卫健", "Health"},
	"import.source.transport":     {"交通", "Transport"},
	"import.source.telecom":       {"通信运营商", "Telecom"},
	"import.status.running":       {"导入中", "Importing"},
	"import.status.done":          {"已完成", "Done"},
	"import.status.failed":        {"已中止", "Stopped"},
	"import.summary":              {"已处理 %d / %d 行：成功 %d，错误 %d；新增 %d。", "%d of %d lines: %d good, %d bad; %d new."},
	"import.encoding":             {"编码", "Encoding"},
	"import.new":                  {"导入名单", "Import a list"},
	"import.hint":                 {"CSV 文件，UTF-8 或 GBK（Excel 另存为 CSV 即可），首行为列名。错误行逐行报告并跳过，其余照常导入；重复导入同一文件不会重复登记。", "A CSV file, UTF-8 or GBK (as Excel saves it), the first line naming the columns. Faulty lines are reported and skipped, the rest imported; importing a file again registers nobody twice."},
	"import.submit":               {"开始导入", "Import"},
	"import.recent":               {"最近的导入", "Recent imports"},
	"import.when":                 {"时间", "When"},
	"import.file":                 {"文件", "File"},
	"import.progress":             {"进度", "Progress"},
	"import.result":               {"结果", "Result"},
	"import.none":                 {"还没有导入。", "No imports yet."},
	"grids.region":                {"区域或网格代码", "Region or grid code"},
	"grids.hours":                 {"检测时限（小时）", "Within (hours)"},
	"grids.code":                  {"网格代码", "Grid code"},
	"grids.town":                  {"乡镇街道", "Town"},
	"grids.community":             {"社区", "Community"},
	"grids.name":                  {"网格", "Grid"},
	"grids.households":            {"户数", "Households"},
	"grids.population":            {"应检人数", "Population"},
	"grids.tested":                {"已检", "Tested"},
	"grids.untested":              {"应检未检", "Untested"},
	"grids.list_untested":         {"未检名单", "Who is untested"},
	"grids.untested_of":           {"网格 %s 应检未检人员", "Untested in grid %s"},
	"grids.none":                  {"此范围内还没有网格；导入户籍人口后生成。", "No grids here yet; importing the population makes them."},
	"colour.color":                {"颜色", "Colour"},
	"colour.both":                 {"红码和黄码", "Red and yellow"},
	"colour.rule":                 {"规则", "Rule"},
	"colour.grid":                 {"网格", "Grid"},
	"colour.reason":               {"原因", "Reason"},
	"colour.since":                {"变更时间", "Since"},
	"colour.export":               {"导出 CSV", "Export CSV"},
	"colour.none":                 {"没有符合条件的红码或黄码人员。", "Nobody red or yellow matches."},
	"task.kind.colour":            {"赋码走访", "Colour follow-up"},
	"gridvisit.title":             {"走访登记", "Visit"},
	"gridvisit.escalated":         {"已超时上报", "Overdue: escalated"},
	"gridvisit.due":               {"请于此前走访：", "Visit by"},
	"gridvisit.none":              {"暂无待走访任务。", "No visits waiting."},
	"gridvisit.reason":            {"赋码原因：", "Why:"},
	"gridvisit.advice":            {"管控建议：", "Advice:"},
	"gridvisit.outcome":           {"走访结果", "Outcome"},
	"gridvisit.outcome.met":       {"已见面核实", "Met and checked"},
	"gridvisit.outcome.isolated":  {"已落实隔离管控", "Isolation in place"},
	"gridvisit.outcome.not_home":  {"不在家，已电话联系", "Not at home; reached by phone"},
	"gridvisit.outcome.moved_out": {"已搬离本网格", "Moved out of the grid"},
	"gridvisit.note":              {"备注", "Note"},
	"gridvisit.submit":            {"提交走访结果", "Record the visit"},
	"gridvisit.done":              {"已完成走访", "Visited"},
	"flash.visited":               {"走访已登记。", "The visit is recorded."},
}

func init() {
	for k, v := range gridMessages {
		if _, dup := catalog[k]; dup {
			panic("web: catalogue key defined twice: " + k)
		}
		catalog[k] = v
	}
}

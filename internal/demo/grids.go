package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/grid"
	"github.com/healthcode/healthcode/internal/server"
)

// The demo's community: 河沥社区 of 西津街道 with four grids of 50
// households, and the grid worker of the first.
const (
	gridTown      = "341881001"
	gridCommunity = "001"
	demoGrid      = gridTown + gridCommunity + "001"
)

var gridOperator = struct{ username, display, role, region string }{"wangge", "河沥社区第一网格", string(auth.GridWorker), demoGrid}

// gridWorkerExists tells whether the grid worker was made (by the history).
func gridWorkerExists(ctx context.Context, s *server.Server) (bool, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM operators WHERE username = $1`, gridOperator.username).Scan(&n)
	return n > 0, err
}

// seedGrids imports the population of the community (residents of 西津
// registered by the history, three to a household) through the grid
// service, as a street office would from its census spreadsheet, then a
// telecom list of close contacts among the first grid and a transport list
// of arrivals; the follow-up opens the grid worker's tasks at once.
func seedGrids(ctx context.Context, c *city) error {
	var members []resident
	for _, r := range c.residents {
		if r.region == gridTown && len(members) < 4*50*3 {
			members = append(members, r)
		}
	}
	if len(members) == 0 {
		return nil
	}
	names := []string{"第一网格", "第二网格", "第三网格", "第四网格"}
	var pop strings.Builder
	pop.WriteString("乡镇街道,社区编号,社区,网格编号,网格,户号,姓名,证件号码\n")
	for i, r := range members {
		h := i / 3
		g := min(h/50, 3)
		fmt.Fprintf(&pop, "%s,%s,河沥社区,%03d,%s,%d-%d-%d,居民,%s\n", gridTown, gridCommunity, g+1, names[g], g+1, h%50/10+1, 101+h%10, r.number)
	}
	if _, err := c.s.Grids.Import(ctx, loader, grid.Spec{Kind: grid.Residents, Source: "census", FileName: "河沥社区户籍人口.csv"},
		[]byte(pop.String()), nil); err != nil {
		return err
	}
	at := c.now.Add(-26 * time.Hour).In(c.from.Location()).Format("2006-01-02 15:04")
	var contacts, arrivals strings.Builder
	contacts.WriteString("证件号码,末次接触时间,关联病例\n")
	arrivals.WriteString("证件号码,抵达时间,出发地,交通方式\n")
	for i, r := range members[:min(len(members), 12)] {
		if i%3 == 0 {
			fmt.Fprintf(&contacts, "%s,%s,NG-2022-001\n", r.number, at)
		} else if i%3 == 1 {
			fmt.Fprintf(&arrivals, "%s,%s,310101,rail\n", r.number, at)
		}
	}
	if _, err := c.s.Grids.Import(ctx, loader, grid.Spec{Kind: grid.Contacts, Source: "telecom", FileName: "通信大数据密接名单.csv"},
		[]byte(contacts.String()), nil); err != nil {
		return err
	}
	if _, err := c.s.Grids.Import(ctx, loader, grid.Spec{Kind: grid.Arrivals, Source: "transport", FileName: "铁路到站旅客.csv"},
		[]byte(arrivals.String()), nil); err != nil {
		return err
	}
	op := gridOperator
	if _, err := c.s.Auth.CreateOperator(ctx, loader, auth.NewOperator{Username: op.username, DisplayName: op.display,
		Password: auth.GeneratePassword(), Role: op.role, Region: op.region}); err != nil {
		return fmt.Errorf("operator %s: %w", op.username, err)
	}
	_, err := c.s.Tracing.FollowChanges(ctx)
	return err
}

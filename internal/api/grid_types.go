package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/grid"
)

// ImportKind is what a list holds.
type ImportKind string

// Enum lists the kinds.
func (ImportKind) Enum() []string { return grid.Kinds }

// ImportLineError is one faulty line of an import.
type ImportLineError struct {
	Line    int    `json:"line" doc:"the line number in the file (the header is 1); 0 for the import as a whole"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ImportResponse is an import: its progress while it runs, its report after.
type ImportResponse struct {
	ID         string            `json:"id"`
	Kind       ImportKind        `json:"kind"`
	Source     string            `json:"source" doc:"census, police, health, transport or telecom"`
	Region     string            `json:"region"`
	FileName   string            `json:"file_name"`
	Encoding   string            `json:"encoding" doc:"utf-8 or gbk, as detected"`
	Status     string            `json:"status" doc:"running, done or failed"`
	Lines      int64             `json:"lines" doc:"lines after the header"`
	Done       int64             `json:"done" doc:"lines handled so far"`
	Good       int64             `json:"good"`
	Bad        int64             `json:"bad"`
	Created    int64             `json:"created" doc:"persons registered (residents) or facts recorded (lists); 0 when imported again"`
	Errors     []ImportLineError `json:"errors" doc:"the first 1,000 faulty lines"`
	CreatedAt  time.Time         `json:"created_at"`
	FinishedAt *time.Time        `json:"finished_at"`
}

func importResponse(imp *grid.Import) ImportResponse {
	out := ImportResponse{ID: imp.ID, Kind: ImportKind(imp.Kind), Source: imp.Source, Region: imp.Region, FileName: imp.FileName,
		Encoding: imp.Encoding, Status: imp.Status, Lines: imp.Lines, Done: imp.Done, Good: imp.Good, Bad: imp.Bad,
		Created: imp.Created, Errors: make([]ImportLineError, len(imp.Errors)), CreatedAt: imp.CreatedAt, FinishedAt: imp.FinishedAt}
	for i, e := range imp.Errors {
		out.Errors[i] = ImportLineError(e)
	}
	return out
}

// ImportList is the last imports in scope, newest first.
type ImportList struct {
	Imports []ImportResponse `json:"imports"`
}

// GridResponse is one grid.
type GridResponse struct {
	Code          string `json:"code" doc:"15 digits: the town's 9, the community's 3, the grid's 3"`
	Name          string `json:"name"`
	Community     string `json:"community"`
	CommunityName string `json:"community_name"`
	Town          string `json:"town"`
	TownName      string `json:"town_name"`
	Households    int64  `json:"households"`
	Persons       int64  `json:"persons"`
}

// GridList is the grids in scope.
type GridList struct {
	Grids []GridResponse `json:"grids"`
}

// GridCoverageRow is one grid's 应检未检.
type GridCoverageRow struct {
	Grid          string `json:"grid"`
	Name          string `json:"name"`
	CommunityName string `json:"community_name"`
	Population    int64  `json:"population" doc:"the imported population of the grid, registered through the app or not"`
	Tested        int64  `json:"tested" doc:"with a negative result sampled in the window"`
	Untested      int64  `json:"untested"`
}

// GridCoverage is 应检未检 by grid; untested lists one grid's persons
// (masked) when the region asked for is a grid.
type GridCoverage struct {
	Region   string            `json:"region"`
	Hours    int               `json:"hours"`
	Since    time.Time         `json:"since"`
	At       time.Time         `json:"at"`
	Rows     []GridCoverageRow `json:"rows"`
	Untested []PersonView      `json:"untested"`
}

// ColourPerson is a yellow or red person with the decision and grid.
type ColourPerson struct {
	Person PersonView `json:"person"`
	Grid   string     `json:"grid" doc:"empty when the population lists them in no grid"`
	Color  Color      `json:"color"`
	Rule   string     `json:"rule"`
	Reason string     `json:"reason" doc:"in Chinese, as the person is told"`
	Advice string     `json:"advice"`
	Since  time.Time  `json:"since"`
}

// ColourPersonList is a page of persons by colour.
type ColourPersonList struct {
	Next    string         `json:"next" doc:"pass as ?after= for the next page; empty on the last"`
	Persons []ColourPerson `json:"persons"`
}

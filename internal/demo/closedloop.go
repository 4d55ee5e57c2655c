package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/hotline"
	"github.com/healthcode/healthcode/internal/isolation"
	"github.com/healthcode/healthcode/internal/server"
)

// Closed-loop management in the demo: an isolation hotel and the
// designated hospital with their rooms; 王建国 (the close contact, already
// red) was taken from home to the hotel (the transfer's trail) and
// admitted, with his temperatures twice a day but one half-day missing;
// and an open 12345 ticket from 陈静, who disputes her yellow code.

func loadClosedLoop(ctx context.Context, s *server.Server) error {
	hotel, err := s.Isolation.CreateSite(ctx, loader, isolation.SiteInput{Kind: isolation.Hotel, Name: "宁国宾馆集中隔离点",
		Address: "宁国市西津街道宁阳西路1号", Region: "341881001"})
	if err != nil {
		return fmt.Errorf("isolation hotel: %w", err)
	}
	var first *isolation.Room
	for _, r := range []isolation.RoomInput{{Number: "101", Capacity: 1}, {Number: "102", Capacity: 1}, {Number: "103", Capacity: 1},
		{Number: "201", Capacity: 2}, {Number: "202", Capacity: 2}} {
		room, err := s.Isolation.AddRoom(ctx, loader, hotel.ID, r)
		if err != nil {
			return fmt.Errorf("room %s: %w", r.Number, err)
		}
		if first == nil {
			first = room
		}
	}
	hospital, err := s.Isolation.CreateSite(ctx, loader, isolation.SiteInput{Kind: isolation.Hospital, Name: "宁国市人民医院（定点救治）",
		Address: "宁国市南山街道", Region: "341881002"})
	if err != nil {
		return fmt.Errorf("designated hospital: %w", err)
	}
	for _, r := range []isolation.RoomInput{{Number: "隔离病区1", Capacity: 4}, {Number: "隔离病区2", Capacity: 4}} {
		if _, err := s.Isolation.AddRoom(ctx, loader, hospital.ID, r); err != nil {
			return fmt.Errorf("ward %s: %w", r.Number, err)
		}
	}

	wang := residents[2]
	number := residentID(wang.birth, wang.seq)
	now := time.Now().UTC().Truncate(time.Minute)
	dispatched := now.Add(-29 * time.Hour)
	t, err := s.Isolation.Dispatch(ctx, loader, isolation.TransferInput{Identity: isolation.Identity{IDNumber: number},
		Origin: "宁国市南山街道某小区", Dest: hotel.ID, Vehicle: "皖P·Z0120", Note: "密接转运", At: dispatched})
	if err != nil {
		return fmt.Errorf("transfer: %w", err)
	}
	for i, step := range []string{isolation.PickedUp, isolation.Arrived} {
		if _, err := s.Isolation.Advance(ctx, loader, t.ID, step, isolation.StepInput{At: dispatched.Add(time.Duration(i+1) * 40 * time.Minute)}); err != nil {
			return fmt.Errorf("transfer %s: %w", step, err)
		}
	}
	admitted := dispatched.Add(90 * time.Minute)
	stay, err := s.Isolation.Admit(ctx, loader, isolation.AdmitInput{Identity: isolation.Identity{IDNumber: number}, Site: hotel.ID,
		Room: first.ID, Reason: "close_contact", Days: 14, At: admitted})
	if err != nil {
		return fmt.Errorf("admission: %w", err)
	}
	// Twice a day since the admission, but the second half-day forgotten,
	// so the console lists it as missing.
	for k, at := 0, admitted.Add(30*time.Minute); !at.After(now); k, at = k+1, at.Add(12*time.Hour) {
		if k == 1 {
			continue
		}
		_, err := s.Isolation.Record(ctx, loader, stay.ID, isolation.ReadingInput{Celsius: 36.3 + float64(k%3)/10, At: at})
		if err != nil && !errors.Is(err, isolation.ErrReadingExists) {
			return fmt.Errorf("reading: %w", err)
		}
	}

	chen := residents[3]
	if _, err := s.Hotline.OpenTicket(ctx, loader, hotline.Input{Category: hotline.WrongColor,
		Summary: "来电人称当天未去过西津农贸市场，对黄码有异议，已在网上提交申诉。", IDNumber: residentID(chen.birth, chen.seq)}); err != nil {
		return fmt.Errorf("hotline ticket: %w", err)
	}
	return nil
}

func closedLoopLoaded(ctx context.Context, s *server.Server) (bool, error) {
	n, err := db.Counter(ctx, s.DB, "demo_closed_loop_loaded")
	return n > 0, err
}

func markClosedLoopLoaded(ctx context.Context, s *server.Server) error {
	return s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "demo_closed_loop_loaded", 1); return err })
}

package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// table is a Markdown table.
type table struct {
	head []string
	rows [][]string
}

func newTable(head ...string) *table { return &table{head: head} }

// add appends one row.
func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// markdown renders the table in GitHub Markdown.
func (t *table) markdown() string {
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i := range t.head {
			c := ""
			if i < len(cells) {
				c = strings.ReplaceAll(cells[i], "|", `\|`)
			}
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
	line(t.head)
	b.WriteString("|")
	for range t.head {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		line(r)
	}
	return b.String()
}

// median returns the median of xs (NaN when empty).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// minMax returns the smallest and largest of xs (NaN when empty).
func minMax(xs []float64) (lo, hi float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	lo, hi = xs[0], xs[0]
	for _, x := range xs[1:] {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// ms formats seconds as milliseconds.
func ms(s float64) string {
	if math.IsNaN(s) {
		return "n/a"
	}
	return fmt.Sprintf("%.0f ms", s*1000)
}

// secs formats seconds with 2 decimals.
func secs(s float64) string {
	if math.IsNaN(s) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f s", s)
}

// dur formats a duration in ms with 2 decimals.
func dur(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

// pct formats a fraction as a percentage.
func pct(f float64) string {
	if math.IsNaN(f) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", f*100)
}

// section is one figure's report: what it measures, the commands, tables
// and a one-line reading.
type section struct {
	title    string
	measures string // what the figure measures, and the goal
	commands []string
	tables   []*table
	notes    []string // extra lines under the tables
	reading  string
}

// markdown renders the section.
func (s *section) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", s.title, s.measures)
	if len(s.commands) > 0 {
		b.WriteString("Commands and parameters:\n\n```sh\n")
		for _, c := range s.commands {
			b.WriteString(c + "\n")
		}
		b.WriteString("```\n\n")
	}
	for _, t := range s.tables {
		b.WriteString(t.markdown() + "\n")
	}
	for _, n := range s.notes {
		b.WriteString(n + "\n\n")
	}
	if s.reading != "" {
		fmt.Fprintf(&b, "Reading: %s\n\n", s.reading)
	}
	return b.String()
}

// secs3 formats seconds with 3 decimals.
func secs3(s float64) string {
	if math.IsNaN(s) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f s", s)
}

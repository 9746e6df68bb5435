package main

import (
	"fmt"
	"sort"
	"time"
)

// samples collects repeated measurements of one quantity for one arm.
type samples []float64

func (s samples) sorted() []float64 {
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	return c
}

// median returns the median, or 0 for no samples.
func (s samples) median() float64 { return s.quantile(0.5) }

// quantile returns the q-quantile (nearest rank), or 0 for no samples.
func (s samples) quantile(q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	c := s.sorted()
	i := int(q*float64(len(c))+0.5) - 1
	i = min(max(i, 0), len(c)-1)
	return c[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mbps(bytes int64, d time.Duration) float64 {
	return float64(bytes) / (1 << 20) / d.Seconds()
}

// ratio formats a/b as "1.23x", or "-" when b is zero.
func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// verdict says whether got meets a target: "ok" or "MISSED".
func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// Package app is onair's composition root: it builds every role from the
// configuration, wires them together through the small interfaces the roles
// declare, and runs them under one errgroup. It is the only package that
// imports roles.
//
// Two App values can run in one process (no globals): each has its own
// Prometheus registry, state store and listeners.
package app

// Package config is onair's typed configuration: defaults, then a YAML file
// (strictly decoded: unknown keys are errors), then ONAIR_* environment
// variables, then Validate, which reports every problem at once.
//
// config imports only internal/media.
package config

// Package store keeps onair's state in NATS JetStream: channel configuration
// (bucket onair_channels) and channel runtime state such as the channel
// clock epoch (bucket onair_runtime), both as key-value buckets.
//
// By default it embeds a NATS server with JetStream in the process (data
// under the data directory, no network listener); with a URL it talks to an
// external NATS cluster through the same client code.
//
// store imports only internal/media. A Store is safe for concurrent use.
package store

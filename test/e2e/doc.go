// Package e2e holds end-to-end tests: they build the real onair binary,
// start it on loopback ports, publish with real ffmpeg over RTMP and SRT,
// and read with real clients (ffprobe, ffmpeg, hls.js and dash.js in
// headless Chromium through test/player/play.mjs).
package e2e

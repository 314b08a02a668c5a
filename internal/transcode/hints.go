package transcode

import (
	"errors"
	"strings"

	"onair/internal/proc"
)

// knownFailures maps a line ffmpeg prints when it fails to what a person
// should do about it. The first match in the stderr tail wins.
func knownFailures() []struct{ line, hint string } {
	return []struct{ line, hint string }{
		{"Unknown encoder", "this ffmpeg lacks an encoder of the ladder (libx264 for h264, libx265 for h265): install a full ffmpeg build or change the rendition codec"},
		{"Unrecognized option", "this ffmpeg does not know an option onair uses: onair needs ffmpeg 5.1 or newer"},
		{"Error while opening encoder", "the encoder refused its settings: check the ladder's profile, preset, bitrate and size"},
		{"Invalid argument", "ffmpeg rejected an option value or the input: check the ladder (preset, profile, sizes) and the source codec"},
		{"No such file", "a file ffmpeg needs does not exist: check transcode.ffmpeg"},
		{"Cannot allocate memory", "the machine is out of memory: use fewer or smaller renditions"},
		{"Invalid data found", "ffmpeg could not parse the source video: the broadcaster's stream may be corrupt or of an unsupported codec"},
	}
}

// failureHint returns advice for an ffmpeg failure, or "".
func failureHint(err error) string {
	var ee *proc.ExitError
	if !errors.As(err, &ee) {
		return ""
	}
	for _, k := range knownFailures() {
		if strings.Contains(ee.Tail, k.line) {
			return k.hint
		}
	}
	if ee.Signal == "SIGKILL" {
		return "ffmpeg was killed (SIGKILL), possibly by the kernel's out-of-memory killer: check memory, use fewer or smaller renditions"
	}
	return ""
}

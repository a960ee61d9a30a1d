package main

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dockerInstruction is one Dockerfile instruction with its continuation
// lines joined.
type dockerInstruction struct {
	Line int
	Cmd  string // upper case: FROM, RUN, …
	Args string
}

// parseDockerfile reads instructions the way the builder does: comments
// and blank lines dropped, a trailing backslash continues the line.
func parseDockerfile(t *testing.T, path string) []dockerInstruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []dockerInstruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		if strings.ToUpper(cmd) != cmd {
			t.Errorf("Dockerfile:%d: instruction %q is not upper case", start, cmd)
		}
		out = append(out, dockerInstruction{Line: start, Cmd: cmd, Args: strings.Join(strings.Fields(args), " ")})
		cur.Reset()
	}
	if cur.Len() != 0 {
		t.Errorf("Dockerfile ends inside a continued line: %q", cur.String())
	}
	return out
}

// TestDockerfile checks the image's shape without a Docker engine (none on
// the machines the tests run on): two stages, the build stage running the
// Makefile's dist target, a non-root final stage with the data volume, the
// port and a health check through the binary's own `health` command.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, "Dockerfile")
	var froms []dockerInstruction
	final := map[string][]string{} // instructions after the last FROM
	for _, in := range ins {
		if in.Cmd == "FROM" {
			froms = append(froms, in)
			final = map[string][]string{}
			continue
		}
		final[in.Cmd] = append(final[in.Cmd], in.Args)
	}
	if len(froms) != 2 {
		t.Fatalf("stages = %d (%v), want 2: a build stage and the final image", len(froms), froms)
	}
	if !regexp.MustCompile(`^golang:\S+ AS build$`).MatchString(froms[0].Args) {
		t.Errorf("first stage = %q, want golang:… AS build", froms[0].Args)
	}
	if froms[1].Args != "debian:bookworm-slim" {
		t.Errorf("final stage = %q, want debian:bookworm-slim", froms[1].Args)
	}

	var buildRun string
	for _, in := range ins {
		if in.Cmd == "RUN" && strings.Contains(in.Args, "make ") {
			buildRun = in.Args
		}
	}
	if !strings.Contains(buildRun, "make dist ") || !strings.Contains(buildRun, "DIST_PLATFORMS=") {
		t.Errorf("the build stage's RUN = %q, want the Makefile's dist target (the release build)", buildRun)
	}
	for _, arg := range []string{`VERSION="$VERSION"`, `COMMIT="$COMMIT"`} {
		if !strings.Contains(buildRun, arg) {
			t.Errorf("the build RUN does not pass %s to make: the version would not be stamped", arg)
		}
	}

	want := map[string]string{
		"USER":   "callgate:callgate",
		"VOLUME": `["/var/lib/callgate"]`,
		"EXPOSE": "8080",
	}
	for cmd, args := range want {
		if got := final[cmd]; len(got) != 1 || got[0] != args {
			t.Errorf("final stage %s = %q, want [%s]", cmd, got, args)
		}
	}
	if u := final["USER"]; len(u) == 1 && (strings.HasPrefix(u[0], "root") || strings.HasPrefix(u[0], "0")) {
		t.Errorf("final stage runs as %q", u[0])
	}
	hc := final["HEALTHCHECK"]
	if len(hc) != 1 || !strings.Contains(hc[0], `CMD ["/usr/local/bin/callgate", "health", "--addr", "http://127.0.0.1:8080"]`) {
		t.Errorf("HEALTHCHECK = %q, want the binary's own health command on :8080", hc)
	}
	copies := strings.Join(final["COPY"], "\n")
	for _, f := range []string{"/out/callgate /usr/local/bin/callgate", "ca-certificates.crt"} {
		if !strings.Contains(copies, f) {
			t.Errorf("final stage does not copy %s:\n%s", f, copies)
		}
	}
	if !strings.Contains(strings.Join(final["RUN"], "\n"), "chown callgate:callgate /var/lib/callgate") {
		t.Errorf("the data directory is not owned by the image's user: %q", final["RUN"])
	}
	// Declared after it is chowned: Docker copies the directory's owner
	// into a fresh named volume.
	var volLine, chownLine int
	for _, in := range ins {
		switch {
		case in.Cmd == "VOLUME":
			volLine = in.Line
		case in.Cmd == "RUN" && strings.Contains(in.Args, "chown"):
			chownLine = in.Line
		}
	}
	if volLine < chownLine {
		t.Errorf("VOLUME (line %d) comes before the chown (line %d): the volume would be root's", volLine, chownLine)
	}
	if ep := final["ENTRYPOINT"]; len(ep) != 1 || ep[0] != `["/usr/local/bin/callgate"]` {
		t.Errorf("ENTRYPOINT = %q", ep)
	}
	ignore, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"data/", "dist/", ".git"} {
		if !slices.Contains(strings.Fields(string(ignore)), p) {
			t.Errorf(".dockerignore does not keep %s out of the build context", p)
		}
	}
}

// TestMakeDistTarget reads the dist recipe as make would run it (make -n,
// nothing built): static binaries for the three release platforms, the
// version stamped through LDFLAGS, checksums, and the version check.
// Building them is .ci/run's job (one platform, bounded in time).
func TestMakeDistTarget(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is needed to read the Makefile: %v", err)
	}
	out, err := exec.Command("make", "-n", "dist", "VERSION=v9.8.7-test", "COMMIT=abc123", "DIST=/tmp/callgate-dist-n").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n dist: %v\n%s", err, out)
	}
	recipe := string(out)
	for _, p := range []string{"linux/amd64", "linux/arm64", "darwin/arm64"} {
		if !strings.Contains(recipe, p) {
			t.Errorf("dist does not build %s:\n%s", p, recipe)
		}
	}
	for _, want := range []string{
		"CGO_ENABLED=0",
		"-trimpath",
		"-X github.com/callgate/callgate/gateway/cli.version=v9.8.7-test",
		"-X github.com/callgate/callgate/gateway/cli.commit=abc123",
		"sha256sum callgate-* > SHA256SUMS",
		"version | grep -F 'v9.8.7-test'",
		"/tmp/callgate-dist-n/callgate-$os-$arch",
	} {
		if !strings.Contains(recipe, want) {
			t.Errorf("dist recipe lacks %q:\n%s", want, recipe)
		}
	}
	gi, err := os.ReadFile(".gitignore")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Fields(string(gi)), "/dist/") {
		t.Error(".gitignore does not list /dist/")
	}
}

// TestReadmeLinks: every docs/ or examples/ path the README links to
// exists, and the install guide and the API description are among them.
func TestReadmeLinks(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`\]\(((?:docs|examples)/[^)#]+)`).FindAllStringSubmatch(string(raw), -1)
	var seen []string
	for _, m := range links {
		seen = append(seen, m[1])
		if _, err := os.Stat(m[1]); err != nil {
			t.Errorf("README links to %s: %v", m[1], err)
		}
	}
	for _, want := range []string{"docs/install.md", "docs/openapi.yaml", "docs/hubspot.md"} {
		if !slices.Contains(seen, want) {
			t.Errorf("README does not link to %s", want)
		}
	}
	install, err := os.ReadFile("docs/install.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SHA256SUMS", "examples/systemd/callgate.service", "not been built here", "callgate health", "/var/lib/callgate"} {
		if !strings.Contains(string(install), want) {
			t.Errorf("docs/install.md does not mention %q", want)
		}
	}
}

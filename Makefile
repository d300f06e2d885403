# Coffer — the two commands a newcomer needs are `make run` and `make test`.
# `make install` installs both programs (coffer and coffer-server) into $(PREFIX)/bin.

PREFIX ?= /usr/local
SWIFT ?= swift
SYSTEM_PACKAGES = pkg-config libargon2-dev libsqlite3-dev zlib1g-dev

# What `make test` adds: keepassxc-cli, the real peer the KeePass import and export are checked
# against; Xvfb and xclip, a real clipboard for `coffer copy`; git and python3, a real git remote
# behind basic auth for the credential helper; sqlite3, the documented way to back up
# the server; openssl, which makes the private certificate authority of the TLS test; postgresql,
# the real database the storage conformance suite and the several-instance tests run on; haproxy,
# the load balancer in front of two servers.
TEST_PACKAGES = postgresql haproxy nginx keepassxc xvfb xclip sqlite3 openssl git python3 openssh-client openssh-server

.PHONY: run test install deps test-deps check-swift format lint bench fuzz clean

check-swift:
	@command -v $(SWIFT) >/dev/null 2>&1 || { \
		echo "error: Swift 6.1 or newer is needed; install it from https://www.swift.org/install/linux/" >&2; exit 1; }

deps: check-swift
	@./scripts/ensure-packages.sh $(SYSTEM_PACKAGES)

## Build coffer and coffer-server, then start the server on 127.0.0.1:8080 with its data under ./data.
run: deps
	$(SWIFT) build --product coffer
	$(SWIFT) build --product coffer-server
	@echo
	@echo "coffer-server is starting with its SQLite database in ./data (Ctrl-C stops it)."
	@echo "In another terminal, point the CLI at it:"
	@echo "    export PATH=\"$$(pwd)/.build/debug:\$$PATH\""
	@echo "    coffer register --server http://127.0.0.1:8080 --email you@example.com"
	@echo "Mail (address confirmation, recovery and reset codes) is written to ./data/mail/."
	@echo "The account portal (forgot password, account activity) is at http://127.0.0.1:8080/portal"
	@echo
	.build/debug/coffer-server --host 127.0.0.1 --port 8080 --data-dir ./data

test-deps: deps
	@./scripts/ensure-packages.sh $(TEST_PACKAGES)

## Run every test: formatting, unit tests, end-to-end tests with the real binaries, the API contract
## (schemathesis against the real server), and the web portal in a real browser (chromium without
## JavaScript, driven by selenium).
test: test-deps lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	./scripts/api-contract-tests.sh
	./scripts/browser-tests.sh

lint: check-swift
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format: check-swift
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

# Release builds link the Swift runtime statically: it halves process start-up (coffer get: ~14 ms
# instead of ~29 ms), which is most of what a short command costs. They get their own build folder.
RELEASE = $(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release

## Release build into $(PREFIX)/bin.
install: deps
	$(RELEASE) --product coffer
	$(RELEASE) --product coffer-server
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 "$$($(RELEASE) --show-bin-path)/coffer" "$(DESTDIR)$(PREFIX)/bin/coffer"
	install -m 0755 "$$($(RELEASE) --show-bin-path)/coffer-server" "$(DESTDIR)$(PREFIX)/bin/coffer-server"
	ln -sf coffer "$(DESTDIR)$(PREFIX)/bin/git-credential-coffer"

## Benchmarks (package-benchmark), in their own package so `make test` stays fast. BENCH_ARGS passes
## options through, e.g. BENCH_ARGS='--filter "No-change.*"'.
bench: deps
	$(RELEASE) --product coffer
	$(RELEASE) --product coffer-server
	cd Benchmarks && COFFER_BINARY="$$(cd .. && $(RELEASE) --show-bin-path)/coffer" \
		COFFER_SERVER_BINARY="$$(cd .. && $(RELEASE) --show-bin-path)/coffer-server" \
		$(SWIFT) package --allow-writing-to-package-directory benchmark $(BENCH_ARGS)

## libFuzzer on the import readers and SSH key files (FUZZ_SECONDS, default 300), seeded with the test fixtures.
FUZZ_SECONDS ?= 300
fuzz: deps
	cd Fuzz && $(SWIFT) build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
	mkdir -p Fuzz/.build/corpus && cp Tests/CofferInterchangeTests/Fixtures/* Fuzz/Seeds/* Fuzz/.build/corpus/
	# Throwaway SSH keys of each type Coffer holds, made fresh rather than committed.
	for type in ed25519 ecdsa rsa; do rm -f Fuzz/.build/corpus/ssh-$$type*; ssh-keygen -q -t $$type -N "" -f Fuzz/.build/corpus/ssh-$$type; done
	# SWIFT_BACKTRACE=enable=no lets libFuzzer catch a crash and write the input to ./crash-*.
	SWIFT_BACKTRACE=enable=no Fuzz/.build/release/CofferImportFuzzer Fuzz/.build/corpus -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048

clean:
	rm -rf .build .build-release Benchmarks/.build Fuzz/.build

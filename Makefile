# The two set-up commands: `make site` and `make test`.
CARGO ?= cargo
PARC := target/release/parc

.PHONY: site test test-deps bench example check fmt clippy screenshot screenshots install

## Build the example fleet in snapshots/ into site/.
site:
	$(CARGO) build --release --locked
	$(PARC) build --snapshots snapshots --out site

## Install the binary where the README's units and timers call it.
PREFIX ?= /usr/local
install:
	$(CARGO) build --release --locked
	install -D -m 755 $(PARC) $(DESTDIR)$(PREFIX)/bin/parc

## Install what the tests need, then run them all.
test: test-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings
	$(CARGO) test --locked

# Debian packages the tests use for real: Chromium (browser smoke test),
# an sshd (collection over SSH on 127.0.0.1), smartmontools and lvm2 (the
# probes run on this machine), git (repositories and a bare remote), sudo
# (ssh.sudo), openssl and python3 (a git server over HTTPS on 127.0.0.1),
# mmdebstrap and dpkg-dev (real Debian hosts for the APT tests, and the
# package repository they read), rsync (the deploy step of the CI files parc init
# writes), sqlite3 (queries of parc export).
TEST_PACKAGES := chromium openssh-server openssh-client smartmontools lvm2 git sudo openssl python3 mmdebstrap dpkg-dev rsync sqlite3
# A Debian 12 root, built once per machine (about 25 s to 140 s; the name
# changes with the package list), that each
# APT test host runs from in namespaces of its own, through an overlay
# (python3, python3-apt and git: what the Ansible role needs of a host).
DEBIAN_ROOT := /var/cache/parc-test/bookworm-3
# Real servers for the archive tests, from PyPI: WebDAV (wsgidav on cheroot),
# FTPS (pyftpdlib with pyOpenSSL), SMTP with STARTTLS and AUTH (aiosmtpd);
# ansible-core, whose ansible-inventory is the reference for reading inventories.
PIP_PACKAGES := wsgidav cheroot pyftpdlib pyopenssl aiosmtpd feedparser ansible-core
PIP_MODULES := wsgidav,cheroot,pyftpdlib,OpenSSL,aiosmtpd,feedparser,ansible
test-deps:
	@missing=""; for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@python3 -c "import $(PIP_MODULES)" 2>/dev/null || { echo "installing: $(PIP_PACKAGES) (PyPI)"; \
	  python3 -m pip --version >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null; \
	  python3 -m pip install -q $(PIP_PACKAGES) 2>/dev/null || python3 -m pip install -q --break-system-packages $(PIP_PACKAGES); }
	@[ -d $(DEBIAN_ROOT) ] || { echo "building a Debian 12 root for the APT tests: $(DEBIAN_ROOT)"; \
	  rm -rf $(DEBIAN_ROOT).partial; mkdir -p $(dir $(DEBIAN_ROOT)); \
	  mmdebstrap --quiet --variant=apt --format=directory --include=openssh-server,sudo,needrestart,procps,psmisc,mount,python3,python3-apt,git \
	    bookworm $(DEBIAN_ROOT).partial && mv $(DEBIAN_ROOT).partial $(DEBIAN_ROOT); }

## Regenerate the example fleet (deterministic: same files every time).
example:
	$(CARGO) build --release --locked
	rm -rf snapshots
	$(PARC) demo --hosts 8 --days 42 --every 2 --out snapshots
	# What people did, beside what machines collected: a silence, and the escalation sent for a failing disk.
	cp tests/example/silences.toml snapshots/silences.toml
	cp tests/example/notify.json snapshots/files/notify.json

## The README's picture of the example site's dashboard (headless Chromium).
screenshot: site
	chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
		--window-size=1280,860 --screenshot=content/docs/screenshot.png "file://$(CURDIR)/site/index.html"

## Every kind of page at 390 and 1280 px, in English and in French: target/tmp/screenshots/.
screenshots:
	PARC_SCREENSHOTS=1 $(CARGO) test --locked --test browser every_kind_of_page_fits_a_phone

## Benchmark on generated fleets of 100 and 1,000 hosts (prints figures).
bench:
	$(CARGO) build --release --locked
	bash tests/bench.sh $(PARC)
	@# Updates applied to real Debian hosts (the root make test-deps builds), one at a time and four at once.
	@if [ -d $(DEBIAN_ROOT) ]; then $(CARGO) test --release --locked --test updates -- --ignored --nocapture bench_ 2>/dev/null | grep '^apply'; fi

# Two commands do all set-up on a fresh machine with Python 3.11+:
#   make demo   - play a scripted conversation through the real Lambda handler
#   make test   - lint, type check and the whole test suite
PYTHON ?= python3
# The Lambda runtime's interpreter, to precompile the artifact's bytecode (the deployed
# code is read-only, so without it every cold start compiles every module again).
RUNTIME_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3.13 2>/dev/null))
# The manifest the build puts in the artifact (tests pass the locally rendered one).
AUDIO_MANIFEST ?= build/audio/manifest.json
POWERTOOLS_UNUSED := auth_alpha batch circuit_breaker data_classes data_masking feature_flags \
	idempotency kafka metadata parameters parser streaming validation
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo chat preview render-audio site certify ca-bundle audit bench understanding test lint typecheck complexity unit soak \
	clean build-SkillFunction validate build scan deploy-checks

$(STAMP): requirements-dev.txt lambda/requirements.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@# espeak-ng, the local voice the routines are rendered with (the only system package)
	@command -v espeak-ng >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing espeak-ng"; apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null; \
		else echo "espeak-ng is needed: sudo apt-get install espeak-ng (or your system's package)"; exit 1; fi; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m sim.demo

chat: $(STAMP)
	$(PY) -m sim.chat $(ARGS)

preview: $(STAMP)
	$(PY) -m sim.preview $(ARGS)

# The routines as MP3 files and a manifest (render/). Default: espeak-ng into .cache/audio
# (what make chat and make demo play). For deployment:
#   make render-audio ARGS="--synth polly --upload --bucket <AudioBucketName>"
# renders with Amazon Polly into build/audio, uploads the new files, and writes the
# manifest that `sam build` puts in the artifact.
render-audio: $(STAMP)
	$(PY) -m render $(ARGS)

# The skill's pages and images (privacy policy, terms of use, icons, AudioPlayer art) into
# build/site, and docs/storage.md's section from the same source (publish/privacy.toml). For
# deployment: make site ARGS="--upload --bucket <AudioBucketName>" (publish/site.py).
site: $(STAMP)
	$(PY) -m publish.site $(ARGS)

# skill.json and the interaction models against the certification rules that can be checked
# offline; ARGS="--deployed" after deploy step 4 (publish/certify.py).
certify: $(STAMP)
	$(PY) -m publish.certify $(ARGS)

# The CA bundle the function trusts (lambda/certs/amazon-roots.pem), from the pinned certifi:
# the five Amazon Trust Services roots. Run it when Amazon adds a root (publish/ca_bundle.py).
ca-bundle: $(STAMP)
	$(PY) -m publish.ca_bundle $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

# Cyclomatic complexity (radon's grades, as Powertools gates its own code): no block worse than
# D, every module and the average A for the function (B for the modules of the tools), the
# grades the code meets now, so it cannot grow worse unseen.
complexity: $(STAMP)
	$(VENV)/bin/xenon --max-absolute D --max-modules A --max-average A lambda/pelvic_ease
	$(VENV)/bin/xenon --max-absolute D --max-modules B --max-average A render sim bench tools publish


# The suite on parallel workers (pytest-xdist), each with its own moto server; tests that share
# the one artifact build run on one worker (xdist_group "artifact"). Bytecode is written (into
# the ignored __pycache__ folders) even where PYTHONDONTWRITEBYTECODE is set, as on these
# machines: otherwise every worker and child compiles every module, and pytest rewrites every
# test's asserts, again on every run.
TEST_WORKERS ?= 2
unit: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

bench: $(STAMP)
	$(PY) bench/run.py $(ARGS)

# The corpus of what people say, and the share that gets the right behaviour (docs/understanding.md).
understanding: $(STAMP)
	$(PY) -m tests.understanding $(ARGS)

# Known vulnerabilities in the pinned environment (runtime and development). It fails on
# any finding; packages the vulnerability service cannot look up are listed, not hidden.
audit: $(STAMP)
	$(PY) -m pip_audit --progress-spinner off --skip-editable

test: lint typecheck complexity unit

# Minutes, so not in make test (which runs both at a small size): the soak, 500 users hearing
# a played relaxation and 100 a spoken massage, 50 at a time (the deployed concurrency),
# through the fault proxy with a few percent of DynamoDB calls faulted (completions heard must
# equal completions stored); and the fuzz of more than 10,000 player reports over more than
# 100 plays (any order, repeated, two at once, late from old devices).
soak: $(STAMP)
	$(PY) -m tests.soak --played 500 --spoken 100 --concurrency 50
	$(PY) -m tests.player_fuzz --plays 100 --events 10000

# The deploy tools, each in an environment of its own with its pins (tools/requirements-*.txt):
# the SAM CLI and checkov pin their own boto3 and cfn-lint, which would fight the project's.
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam

$(SAM_VENV)/.installed-stamp: tools/requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet -r tools/requirements-sam.txt
	touch $@

$(CHECKOV_VENV)/.installed-stamp: tools/requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r tools/requirements-checkov.txt
	touch $@

# `sam validate --lint`: the SAM schema and cfn-lint's rules.
validate: $(SAM_VENV)/.installed-stamp
	$(SAM) validate --lint

# `sam build` into .aws-sam/build (samconfig.toml: build in source, so no copy of the tree first).
build: $(SAM_VENV)/.installed-stamp $(STAMP)
	$(SAM) build

# checkov on the template. Accepted findings are skipped in the template itself, each with its
# reason (Metadata: checkov: skip). --skip-download: no call to the vendor's API.
scan: $(CHECKOV_VENV)/.installed-stamp
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

deploy-checks: validate build scan

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage

# `sam build` runs this (template.yaml: BuildMethod makefile) with ARTIFACTS_DIR set.
# The artifact: the package, the content, and the pinned runtime requirements (boto3 is
# in the Lambda runtime and is not packaged). Wheels are chosen for the runtime (arm64,
# CPython 3.13), and constraints.txt keeps python-dateutil below 3 as the runtime's botocore needs.
build-SkillFunction:
	mkdir -p $(ARTIFACTS_DIR)/routines/locales
	cp -R lambda/pelvic_ease $(ARTIFACTS_DIR)/
	cp routines/*.toml $(ARTIFACTS_DIR)/routines/
	cp routines/locales/*.toml $(ARTIFACTS_DIR)/routines/locales/
	# The only CAs the function trusts (template.yaml: AWS_CA_BUNDLE; make ca-bundle)
	cp -R lambda/certs $(ARTIFACTS_DIR)/
	# The content parsed once here (the TOML stays in the artifact and is the source).
	$(PYTHON) tools/compile_content.py $(ARTIFACTS_DIR)/routines
	# The audio manifest of what `make render-audio ARGS="--synth polly --upload ..."` put in
	# the bucket; without it every routine is spoken step by step.
	if [ -f $(AUDIO_MANIFEST) ]; then mkdir -p $(ARTIFACTS_DIR)/audio && \
		cp $(AUDIO_MANIFEST) $(ARTIFACTS_DIR)/audio/manifest.json; \
		else echo "note: no $(AUDIO_MANIFEST), routines will be spoken"; fi
	find $(ARTIFACTS_DIR) -name __pycache__ -prune -exec rm -rf {} +
	$(PYTHON) -m pip install --quiet --no-compile --target $(ARTIFACTS_DIR) \
		--platform manylinux2014_aarch64 --implementation cp --python-version 3.13 --only-binary=:all: \
		-r lambda/requirements.txt -c constraints.txt
	# aws-xray-sdk pulls in botocore: the runtime's own copies must not be shadowed.
	rm -rf $(ARTIFACTS_DIR)/boto3 $(ARTIFACTS_DIR)/boto3-* $(ARTIFACTS_DIR)/botocore $(ARTIFACTS_DIR)/botocore-* \
		$(ARTIFACTS_DIR)/s3transfer $(ARTIFACTS_DIR)/s3transfer-* $(ARTIFACTS_DIR)/bin
	# Powertools' utilities the skill never uses (only Logger, Metrics and Tracer are), and
	# nothing in those three imports: 3.6 MB of the package's 4.8 MB.
	cd $(ARTIFACTS_DIR)/aws_lambda_powertools && rm -rf event_handler $(addprefix utilities/,$(POWERTOOLS_UNUSED))
	@if [ -n "$(RUNTIME_PYTHON)" ]; then \
		PYTHONDONTWRITEBYTECODE=1 $(RUNTIME_PYTHON) -W ignore tools/precompile_loaded.py $(ARTIFACTS_DIR) events; \
	else echo "note: no python3.13 here, the artifact has no precompiled bytecode"; fi

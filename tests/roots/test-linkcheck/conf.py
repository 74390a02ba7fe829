"""A tiny MyST project whose links all point at the local fault server of test_linkcheck.py.

``PORT`` in ``index.md`` is a placeholder: the test copies this folder and writes the real
port of its ``127.0.0.1`` server in.  Nothing here may reach the internet.
"""

extensions = ["myst_parser"]

# Every request is bounded: /slow sleeps longer than this and must come back as "timeout".
linkcheck_timeout = 2
linkcheck_retries = 1
linkcheck_workers = 5
linkcheck_anchors = True
# /ratelimited answers 429 with "Retry-After: 1" once; a Retry-After without a usable value
# would back off at most this long (seconds) before the link is reported broken.
linkcheck_rate_limit_timeout = 5
# Sphinx matches both sides with re.match on the full URL (scheme, host and port included).
# A redirect that matches is reported as "working"; any other redirect as "redirected".
linkcheck_allowed_redirects = {
    r"^http://127\.0\.0\.1:\d+/redirect$": r"^http://127\.0\.0\.1:\d+/ok$",
}
linkcheck_report_timeouts_as_broken = False

"""cal.com-compatible webhooks: payloads, signatures, SSRF-guarded delivery."""

"""cal.com-compatible webhooks (docs/events.md "Webhook deliveries"): payloads, signatures, the SSRF guard and one delivery.

Submodules are imported by what needs them (the API only needs `ssrf`; the delivery code pulls in http.client/ssl).
"""

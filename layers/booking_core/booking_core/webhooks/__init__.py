"""cal.com-compatible webhooks (CONTRACT.md section 5): payloads, signatures, the SSRF guard and one delivery.

Submodules are imported by what needs them (the API only needs `ssrf`; the delivery code pulls in http.client/ssl).
"""

"""Business rules: every write goes through a function here, keyword-only, atomic, cleaned before save.

Errors are Django `ValidationError`s with translated messages; the API and the web turn them into a 400 or a form error.
"""

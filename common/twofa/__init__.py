"""The admin's second factor: TOTP enrolment in the browser and single-use recovery codes.

django-otp verifies the codes; this app adds what it lacks here: the enrolment page a staff user is
sent to after the password (common/admin_site.py), and recovery codes stored hashed (django-otp's
static tokens are stored in clear).
"""

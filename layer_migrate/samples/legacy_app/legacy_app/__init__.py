"""A small legacy integration of the Layer Platform API 1.1 (the codemod's sample app).

A "support desk" service: it opens conversations between customers and agents, posts as a bot,
sends announcements and push notifications, manages block lists and identities, and receives
webhooks. Written the way 2016-era code was: ``requests``, bare user ids, ``sender.name`` bots.
"""

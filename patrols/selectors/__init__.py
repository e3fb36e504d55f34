"""Reads: the queries behind lists and details, beside the services that write (HackSoft's selectors).

Each takes a queryset already cut to the user's scope (`Model.objects.visible_to(user)`, patrols.scope) and adds
what a list shows, in a fixed number of queries however long the list: the API, the pages, exports and tasks use
the same ones.
"""

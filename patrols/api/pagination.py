"""The API's page-number pagination (`count`, `next`, `previous`, `results`), counting only when it has to."""

from django.core.paginator import Page, Paginator
from rest_framework import pagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


class CountOnDemandPaginator(Paginator):
    """Reads the first page before counting: a first page that is not full holds the whole list, so its length is
    the count and no `COUNT(*)` query runs (a volunteer's shifts, reports and inbox mostly fit in one page).

    A full first page counts when `count` or `next` is asked for, as Django's paginator does; other pages are
    Django's own."""

    def page(self, number) -> Page:
        if str(number) != "1" or self.orphans:
            return super().page(number)
        rows = list(self.object_list[: self.per_page])
        if not rows and not self.allow_empty_first_page:
            return super().page(number)
        if len(rows) < self.per_page:
            # `count` is a cached_property: setting it here is what the count query would have cached.
            self.__dict__["count"] = len(rows)
        return self._get_page(rows, 1, self)


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = CountOnDemandPaginator


def first_page_response(request, results: list, count: int) -> Response:
    """A list's first page answered as the paginator answers it, without the paginator: the fast ways of the lists
    phones ask most, which read the page and, only when it is full, the count themselves."""
    following = replace_query_param(request.build_absolute_uri(), "page", 2) if count > len(results) else None
    return Response({"count": count, "next": following, "previous": None, "results": results})

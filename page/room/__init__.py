"""Rooms where an audience trains together: the page's side, one job per module.

- ``router``: which room page a link asks for (``requested``, ``page``) and the main page's "Start a room";
- ``links``: the join and presenter links, the address bar (``replace_address``) and the cookies that keep
  a presenter's key and a phone's participant id;
- ``store``: the one room store of this process (``lucky5.room``'s memory or Redis store), its refusals shown;
- ``outage``: a page that outlives a short store outage (the room's last answer, bounded retries, a message);
- ``phone``: a participant's page (``?join=CODE``): their seed, Train, their run and where it stands;
- ``presenter``: the presenter's page (``?room=CODE``): the code, the QR code, the stage buttons;
- ``wall``: the wall beside it, refreshed on its own: the count and the room's charts.

No import circle: ``router`` imports ``phone`` and ``presenter``, ``presenter`` imports ``wall``, and these
use ``links``, ``outage`` and ``store`` (``outage`` imports ``store`` alone). The rooms themselves, and every
rule about their runs, are in ``lucky5.room``.
"""

from .router import page, requested, start_control

__all__ = ["page", "requested", "start_control"]

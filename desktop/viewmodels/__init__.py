"""Qt-free state of the desktop: what the widgets show and which actions they allow.

Each model is fed event dicts of the API's event stream and REST answers (docs/api.md) and tells
its listeners through `Signal`s; the widgets in desktop/widgets bind to these only, so the
desktop's behaviour is tested without a display and the widgets stay thin.
"""

from desktop.viewmodels.address_book import AddressBookModel
from desktop.viewmodels.agent_state import AgentStateModel
from desktop.viewmodels.calls import CallHistoryModel, CallsModel
from desktop.viewmodels.desktop import DesktopModel
from desktop.viewmodels.notification import IncomingCallNotifier
from desktop.viewmodels.observable import Signal
from desktop.viewmodels.screenpop import ScreenPopModel
from desktop.viewmodels.supervisor import SupervisorModel

__all__ = [
    "AddressBookModel", "AgentStateModel", "CallHistoryModel", "CallsModel", "DesktopModel",
    "IncomingCallNotifier", "ScreenPopModel", "Signal", "SupervisorModel",
]

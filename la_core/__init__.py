"""la_core: the compute layer of LA Lens (torch inside, NumPy at the public boundary).

Never imports streamlit or plotly.
"""
from la_core.device import device_label, get_device, to_numpy, to_tensor

__all__ = ["get_device", "device_label", "to_tensor", "to_numpy"]

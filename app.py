"""lucky5's Streamlit page (placeholder: trains the URL's settings and shows the result)."""

import streamlit as st

from lucky5 import from_query, train

config, notices = from_query(st.query_params.to_dict(), extra=("present", "x"))
for notice in notices:
    st.warning(notice)
history = train(config)
st.title("lucky5")
st.metric("Final loss", f"{float(history.losses[-1]):.4g}")
st.caption(f"Run fingerprint: {history.fingerprint()}")

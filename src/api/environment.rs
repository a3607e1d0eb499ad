//! Harmony environments (prod, uat, sit, local, any URL) and their base URLs.

//! The RAM actions on the Alibaba wire (version 2015-05-01), one codec file each.

//! Config → CloudFormation template. Pure: no I/O.

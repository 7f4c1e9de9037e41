//! One module per AWS service.

pub mod cloudformation;
pub mod cloudwatch;
pub mod codebuild;
pub mod codedeploy;
pub mod codepipeline;
pub mod logs;
pub mod sts;

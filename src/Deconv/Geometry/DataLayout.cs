namespace Deconv;

/// <summary>Where the channel axis of a data tensor sits.</summary>
public enum DataLayout
{
    /// <summary><c>[N, C, spatial...]</c>: PyTorch and ONNX (NCW, NCHW, NCDHW).</summary>
    ChannelsFirst,

    /// <summary><c>[N, spatial..., C]</c>: TensorFlow's default (NWC, NHWC, NDHWC).</summary>
    ChannelsLast,
}

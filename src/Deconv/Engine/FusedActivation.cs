namespace Deconv.Engine;

/// <summary>An element-wise function applied to each output value (after the bias) as it is stored.</summary>
public enum FusedActivation
{
    /// <summary>No activation: <c>y = acc + bias</c>.</summary>
    None,

    /// <summary><c>max(y, 0)</c>; NaN stays NaN.</summary>
    Relu,

    /// <summary><c>y &lt; 0 ? slope * y : y</c>.</summary>
    LeakyRelu,

    /// <summary><c>tanh(y)</c>.</summary>
    Tanh,

    /// <summary><c>1 / (1 + exp(-y))</c>.</summary>
    Sigmoid,
}

internal static class Activations
{
    public static float Apply(float v, FusedActivation activation, float slope) => activation switch
    {
        FusedActivation.None => v,
        FusedActivation.Relu => MathF.Max(v, 0f),
        FusedActivation.LeakyRelu => v < 0f ? v * slope : v,
        FusedActivation.Tanh => MathF.Tanh(v),
        _ => 1f / (1f + MathF.Exp(-v)),
    };
}

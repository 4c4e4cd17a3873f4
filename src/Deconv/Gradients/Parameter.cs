namespace Deconv.Layers;

/// <summary>A trainable array and its gradient (same length), updated in place by an optimizer.</summary>
public sealed class Parameter
{
    /// <summary>Wraps <paramref name="value"/> and <paramref name="gradient"/> (not copied).</summary>
    /// <exception cref="ArgumentException">The arrays differ in length or the shape does not describe them.</exception>
    public Parameter(string name, float[] value, float[] gradient, IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(gradient);
        ArgumentNullException.ThrowIfNull(shape);
        if (gradient.Length != value.Length || Shapes.TryProduct([.. shape]) != value.Length)
        {
            throw new ArgumentException($"parameter {name}: value has {value.Length} elements, gradient {gradient.Length}, shape {FrontEnd.Format(shape)}; all three must agree", nameof(gradient));
        }

        Name = name;
        Value = value;
        Gradient = gradient;
        Shape = [.. shape];
    }

    /// <summary>Name for printing (<c>weight</c>, <c>bias</c>).</summary>
    public string Name { get; }

    /// <summary>The values, row-major in <see cref="Shape"/>.</summary>
    public float[] Value { get; }

    /// <summary>The gradient of the loss with respect to <see cref="Value"/>, written by the layer's <c>Backward</c>.</summary>
    public float[] Gradient { get; }

    /// <summary>Shape of <see cref="Value"/>.</summary>
    public IReadOnlyList<long> Shape { get; }
}

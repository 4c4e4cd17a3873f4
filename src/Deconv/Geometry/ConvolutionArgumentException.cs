namespace Deconv;

/// <summary>
/// A parameter of a convolution breaks one of the rules of the framework whose terms were used.
/// The message names the parameter, its value and the rule, in the manner of TensorFlow's
/// <c>InvalidArgumentError</c> messages.
/// </summary>
public sealed class ConvolutionArgumentException : ArgumentException
{
    /// <summary>Creates the exception for parameter <paramref name="paramName"/>.</summary>
    public ConvolutionArgumentException(string message, string paramName)
        : base(message, paramName)
    {
    }

    /// <summary>Creates the exception without a parameter name.</summary>
    public ConvolutionArgumentException()
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    public ConvolutionArgumentException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public ConvolutionArgumentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The message without .NET's appended " (Parameter 'name')".</summary>
    public string Reason => ParamName is null ? Message : Message.Replace($" (Parameter '{ParamName}')", "", StringComparison.Ordinal);
}
